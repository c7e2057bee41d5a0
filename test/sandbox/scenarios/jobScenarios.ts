// Job and CronJob scenarios driven by an unmodified kubectl. Each takes a runner (the sandbox's
// ClientEnv, or a kubectl aimed at the reference control plane with the sandbox's nodes and
// controllers attached) and a namespace of its own, so the same bodies run against both.
import assert from 'node:assert/strict';
import type { RunResult } from '../support.js';

export interface KubectlRunner {
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
}

async function ok(k: KubectlRunner, args: string[], input?: string, timeoutMs = 30_000): Promise<string> {
  const r = await k.kubectl(args, { ...(input === undefined ? {} : { input }), timeoutMs });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const podsOf = async (k: KubectlRunner, ns: string, job: string): Promise<string[]> =>
  (await ok(k, ['get', 'pods', '-n', ns, '-l', `job-name=${job}`, '-o', 'name'])).split('\n').filter(Boolean);

function jobYaml(name: string, spec: string, command: string, restartPolicy = 'Never'): string {
  return `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
${spec}
  template:
    spec:
      restartPolicy: ${restartPolicy}
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command: [sh, -c, '${command}']
`;
}

/** kubectl create job (a protobuf body), wait for complete, logs job/NAME, the table's columns. */
export async function createWaitLogs(k: KubectlRunner, ns: string): Promise<void> {
  await ok(k, ['create', 'job', 'pi', '-n', ns, '--image=busybox', '--', 'sh', '-c', 'echo done']);
  await ok(k, ['wait', '-n', ns, '--for=condition=complete', 'job/pi', '--timeout=60s'], undefined, 70_000);
  assert.equal(await ok(k, ['logs', '-n', ns, 'job/pi']), 'done\n');
  const table = await ok(k, ['get', 'jobs', '-n', ns]);
  assert.match(table, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\n/);
  assert.match(table, /\npi\s+Complete\s+1\/1\s+\d+s\s+\d+s\n/);
  const conds = await ok(k, [
    'get',
    'job',
    'pi',
    '-n',
    ns,
    '-o',
    'jsonpath={range .status.conditions[*]}{.type}={.reason};{end}',
  ]);
  assert.equal(conds, 'SuccessCriteriaMet=CompletionsReached;Complete=CompletionsReached;');
  const pods = await podsOf(k, ns, 'pi');
  assert.equal(pods.length, 1);
  const finalizers = await ok(k, ['get', pods[0]!, '-n', ns, '-o', 'jsonpath={.metadata.finalizers}']);
  assert.doesNotMatch(finalizers, /job-tracking/, 'the tracking finalizer is removed once the pod is counted');
}

/** backoffLimit 1: two pods fail, the Job ends Failed with BackoffLimitExceeded. */
export async function backoffLimit(k: KubectlRunner, ns: string): Promise<void> {
  await ok(k, ['apply', '-n', ns, '-f', '-'], jobYaml('fails', '  backoffLimit: 1', 'exit 1'));
  await ok(k, ['wait', '-n', ns, '--for=condition=failed', 'job/fails', '--timeout=60s'], undefined, 70_000);
  const reason = await ok(k, [
    'get',
    'job',
    'fails',
    '-n',
    ns,
    '-o',
    'jsonpath={.status.conditions[?(@.type=="Failed")].reason}',
  ]);
  assert.equal(reason, 'BackoffLimitExceeded');
  assert.equal(await ok(k, ['get', 'job', 'fails', '-n', ns, '-o', 'jsonpath={.status.failed}']), '2');
  assert.equal((await podsOf(k, ns, 'fails')).length, 2);
}

/** parallelism 2, completions 4: four pods succeed, never more than two at once. */
export async function parallelCompletions(k: KubectlRunner, ns: string): Promise<void> {
  await ok(k, ['apply', '-n', ns, '-f', '-'], jobYaml('par', '  parallelism: 2\n  completions: 4', 'sleep 1'));
  await ok(k, ['wait', '-n', ns, '--for=condition=complete', 'job/par', '--timeout=90s'], undefined, 100_000);
  assert.equal(await ok(k, ['get', 'job', 'par', '-n', ns, '-o', 'jsonpath={.status.succeeded}']), '4');
  assert.equal((await podsOf(k, ns, 'par')).length, 4);
}

/** activeDeadlineSeconds: the running pod is deleted, the Job fails with DeadlineExceeded. */
export async function activeDeadline(k: KubectlRunner, ns: string): Promise<void> {
  await ok(k, ['apply', '-n', ns, '-f', '-'], jobYaml('slow', '  activeDeadlineSeconds: 2', 'sleep 60'));
  await ok(k, ['wait', '-n', ns, '--for=condition=failed', 'job/slow', '--timeout=60s'], undefined, 70_000);
  const c = await ok(k, [
    'get',
    'job',
    'slow',
    '-n',
    ns,
    '-o',
    'jsonpath={.status.conditions[?(@.type=="Failed")].reason}/{.status.conditions[?(@.type=="Failed")].message}',
  ]);
  assert.equal(c, 'DeadlineExceeded/Job was active longer than specified deadline');
  await until('the pod is gone', async () => (await podsOf(k, ns, 'slow')).length === 0);
}

/** podFailurePolicy FailJob on exit code 42: the first failure fails the Job. */
export async function podFailurePolicy(k: KubectlRunner, ns: string): Promise<void> {
  const spec = `  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: {containerName: main, operator: In, values: [42]}`;
  await ok(k, ['apply', '-n', ns, '-f', '-'], jobYaml('pfp', spec, 'exit 42'));
  await ok(k, ['wait', '-n', ns, '--for=condition=failed', 'job/pfp', '--timeout=60s'], undefined, 70_000);
  const c = await ok(k, [
    'get',
    'job',
    'pfp',
    '-n',
    ns,
    '-o',
    'jsonpath={.status.conditions[?(@.type=="Failed")].reason}|{.status.conditions[?(@.type=="Failed")].message}',
  ]);
  assert.match(
    c,
    /^PodFailurePolicy\|Container main for pod .+\/pfp-\w+ failed with exit code 42 matching FailJob rule at index 0$/,
  );
  assert.equal((await podsOf(k, ns, 'pfp')).length, 1);
}

/** ttlSecondsAfterFinished 0: the finished Job and its pod are deleted. */
export async function ttlAfterFinished(k: KubectlRunner, ns: string): Promise<void> {
  await ok(k, ['apply', '-n', ns, '-f', '-'], jobYaml('brief', '  ttlSecondsAfterFinished: 0', 'true'));
  await until('job brief deleted', async () => {
    const r = await k.kubectl(['get', 'job', 'brief', '-n', ns]);
    return r.code !== 0 && /NotFound/.test(r.stderr);
  });
  await until('its pod deleted', async () => (await podsOf(k, ns, 'brief')).length === 0);
}

/** kubectl create cronjob (protobuf), its table, and a Job made from it with --from. */
export async function cronJobFrom(k: KubectlRunner, ns: string): Promise<void> {
  await ok(k, [
    'create',
    'cronjob',
    'nightly',
    '-n',
    ns,
    '--image=busybox',
    '--schedule=0 3 * * *',
    '--',
    'sh',
    '-c',
    'echo nightly',
  ]);
  const table = await ok(k, ['get', 'cronjobs', '-n', ns]);
  assert.match(table, /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\n/);
  assert.match(table, /\nnightly\s+0 3 \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\d+s\n/);
  await ok(k, ['create', 'job', 'manual', '-n', ns, '--from=cronjob/nightly']);
  await ok(k, ['wait', '-n', ns, '--for=condition=complete', 'job/manual', '--timeout=60s'], undefined, 70_000);
  assert.equal(await ok(k, ['logs', '-n', ns, 'job/manual']), 'nightly\n');
  const owner = await ok(k, [
    'get',
    'job',
    'manual',
    '-n',
    ns,
    '-o',
    'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}',
  ]);
  assert.equal(owner, 'CronJob/nightly');
}

/** kubectl delete job removes its pods. */
export async function deleteRemovesPods(k: KubectlRunner, ns: string): Promise<void> {
  await ok(k, ['apply', '-n', ns, '-f', '-'], jobYaml('longrun', '  parallelism: 2\n  completions: 2', 'sleep 60'));
  await until('two pods', async () => (await podsOf(k, ns, 'longrun')).length === 2);
  await ok(k, ['delete', 'job', 'longrun', '-n', ns], undefined, 60_000);
  await until('its pods deleted', async () => (await podsOf(k, ns, 'longrun')).length === 0, 60_000);
}

export const JOB_SCENARIOS = {
  createWaitLogs,
  backoffLimit,
  parallelCompletions,
  activeDeadline,
  podFailurePolicy,
  ttlAfterFinished,
  cronJobFrom,
  deleteRemovesPods,
};

// Worker health end to end: a real server, real Kubernetes workers in the sandbox, the CLI, and
// the worker's Role edited the way a cluster admin would. test/api/workerHealth.test.ts and
// test/api/noUsableWorker.test.ts cover the same rules with the worker side faked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { Lab } from '../support/lab.js';

const NAMESPACE = 'default';
const ACCOUNT = 'health-worker';
/** The rules of the chart's worker Role (charts/longshore-worker/templates/rbac-worker.yaml), as an admin would have installed them. */
const WORKER_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'list', 'delete', 'patch', 'update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['list', 'watch'] },
  { apiGroups: ['metrics.k8s.io'], resources: ['pods'], verbs: ['get'] },
];

let lab: Lab;
let sandbox: Sandbox;
let rbac: RbacAuthorizationV1Api;

before(async () => {
  sandbox = await startSandbox();
  lab = new Lab();
  await lab.startServer({
    // Short, so that a step with no usable worker fails within seconds, not after the default ten minutes.
    LONGSHORE_NO_USABLE_WORKER_TIMEOUT_SECONDS: '5',
    // Far longer than any test here: "offline" and "unavailable" must come from the clean stop and
    // the check, not from a worker merely not seen for a while.
    LONGSHORE_WORKER_OFFLINE_AFTER_MS: '600000',
  });
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  // The worker runs as a ServiceAccount bound to the worker Role, not as the sandbox's admin,
  // so that what its Role allows is what the health check finds.
  await core.createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name: ACCOUNT } } });
  await rbac.createNamespacedRole({
    namespace: NAMESPACE,
    body: { metadata: { name: ACCOUNT }, rules: WORKER_RULES },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: NAMESPACE,
    body: {
      metadata: { name: ACCOUNT },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ACCOUNT },
      subjects: [{ kind: 'ServiceAccount', name: ACCOUNT, namespace: NAMESPACE }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    name: ACCOUNT,
    namespace: NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const kubeconfig = join(lab.dir, 'worker-kubeconfig');
  writeFileSync(kubeconfig, sandbox.kubeconfig.replace(/token: .*/, `token: ${token.status!.token}`));

  await lab.apply('environments: [ { name: Cluster } ]\nworkerPools: [ { name: Checked }, { name: Stopping } ]\n');
  await lab.startKubernetesWorker('checked', { kubeconfig, pools: ['Checked'] });
});
after(async () => {
  await lab?.close();
  await sandbox?.stop();
});

const worker = async (name: string) => (await lab.api('GET', `/api/workers/${name}`)).body;

/** Polls until `done` holds for what `probe` answers; fails naming `what` and the last answer. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (found: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (done(found)) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(found)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function setPodVerbs(verbs: string[]): Promise<void> {
  await rbac.replaceNamespacedRole({
    name: ACCOUNT,
    namespace: NAMESPACE,
    body: {
      metadata: { name: ACCOUNT },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs }, ...WORKER_RULES.slice(1)],
    },
  });
}

/** A CLI run that fails the test after `ms` instead of hanging it; the timer is cleared so it does not hold the process. */
async function bounded<T>(run: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not end in ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const checkThroughCli = (name: string) =>
  bounded(lab.cli(['workers', 'check', name, '--follow']), 60_000, `longshore workers check ${name}`);

test('a check through the CLI: the log shows each check, and the worker is healthy with its facts', async () => {
  const res = await checkThroughCli('checked');
  assert.equal(res.code, 0, res.output);
  assert.match(res.output, /\[checked\] ok server channel: /);
  assert.match(res.output, /\[checked\] ok Kubernetes API server: reachable, version v\d+\.\d+/);
  assert.match(res.output, /\[checked\] ok pods\/create in namespace default: allowed/);
  assert.match(res.output, /\[checked\] ok check pod in namespace default: created and deleted pod /);
  assert.match(res.output, /\[checked\] The worker is healthy/);

  const shown = await worker('checked');
  assert.equal(shown.health, 'healthy', JSON.stringify(shown));
  assert.deepEqual(shown.healthReasons, []);
  assert.match(shown.healthFacts.apiServerVersion, /^v\d+\.\d+/);
  assert.ok(shown.lastHealthCheck, 'the time of the check is shown');
  const listed = (await lab.api('GET', '/api/workers')).body.items.find((w: { name: string }) => w.name === 'checked');
  assert.equal(listed.health, 'healthy');
});

test("create on pods removed from the worker's Role: the next check makes it unhealthy, naming pods/create", async () => {
  await setPodVerbs(['get', 'list', 'watch', 'delete']);
  const res = await checkThroughCli('checked');
  assert.equal(res.code, 2, res.output);
  assert.match(res.output, /\[checked\] FAILED pods\/create in namespace default: pods\/create denied/);
  const shown = await worker('checked');
  assert.equal(shown.health, 'unhealthy', JSON.stringify(shown));
  assert.ok(
    shown.healthReasons.some((r: string) => /^pods\/create in namespace default: pods\/create denied/.test(r)),
    shown.healthReasons.join('\n'),
  );
  // Only the right that was taken away: the rest of the Role still holds.
  assert.ok(!shown.healthReasons.some((r: string) => /pods\/(get|list|watch|delete) /.test(r)));
});

test('dispatch skips the unhealthy worker: the task log says why, then the step fails with it', async () => {
  await lab.apply(`
projects:
  - name: OnChecked
    process:
      steps:
        - name: Build
          runOn: { pool: Checked }
          script: { body: 'echo never' }
`);
  const started = Date.now();
  const res = await bounded(lab.cli(['deploy', 'OnChecked', '--to', 'Cluster', '--follow']), 60_000, 'the deployment');
  assert.equal(res.code, 2, res.output);
  const why =
    /No healthy worker in pool 'Checked': checked unhealthy — pods\/create in namespace default: pods\/create denied/;
  assert.match(res.output, why);
  assert.match(res.output, new RegExp(`Step 'Build': .*failed.*${why.source}`));
  assert.ok(!res.output.includes('never'), res.output);
  // Not at once (the worker might have been fixed) and not much after noUsableWorkerTimeoutSeconds.
  const took = Date.now() - started;
  assert.ok(took >= 4_000 && took < 30_000, `failed after ${took} ms`);

  // Restored, the next check finds it healthy again.
  await setPodVerbs(['create', 'get', 'list', 'watch', 'delete']);
  const again = await checkThroughCli('checked');
  assert.equal(again.code, 0, again.output);
  assert.equal((await worker('checked')).health, 'healthy');
});

test('a worker killed with SIGKILL: with a short check timeout in its policy, a check makes it unavailable', async () => {
  const created = await lab.api('POST', '/api/machine-policies', { name: 'Quick', healthCheckTimeoutSeconds: 2 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const assigned = await lab.api('PUT', '/api/workers/checked/machine-policy', { machinePolicy: 'Quick' });
  assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
  assert.equal(await lab.workers.get('checked')!.kill('SIGKILL'), 'SIGKILL');

  const check = await lab.api('POST', '/api/workers/checked/health-checks');
  assert.equal(check.status, 202, JSON.stringify(check.body));
  const shown = await waitFor(
    'the worker to be unavailable',
    () => worker('checked'),
    (w) => w.health === 'unavailable',
    15_000,
  );
  // Not collected (no poll) or collected by a poll already waiting and never answered.
  assert.match(
    shown.healthReasons.join('; '),
    /not polling: the check was not collected within 2 s|no answer within 2 s/,
  );
  assert.equal((await lab.api('GET', `/api/tasks/${check.body.taskId}`)).body.state, 'failed');
});

test('a worker stopped cleanly with SIGTERM is offline at once, not after the offline window', async () => {
  const stopping = await lab.startKubernetesWorker('stopping', {
    kubeconfig: sandbox.kubeconfigPath,
    pools: ['Stopping'],
  });
  await waitFor(
    'the worker to be online',
    () => worker('stopping'),
    (w) => w.status === 'online',
  );
  assert.equal(await stopping.kill('SIGTERM'), 0, stopping.output());
  // The window is ten minutes here: only the worker saying it stops can make it offline now.
  const shown = await worker('stopping');
  assert.equal(shown.status, 'offline', JSON.stringify(shown));
});

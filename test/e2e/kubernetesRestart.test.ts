import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { Lab } from '../support/lab.js';
import { expectNothingLeft } from '../support/scriptObjects.js';
import type { CliProcess } from '../support/cliProcess.js';

const TARGETS = 10;
const LINES = 60;
let lab: Lab;
let sandbox: Sandbox;
let core: CoreV1Api;

/** The first start registers; a restart reuses the stored credential (the token was single-use). */
const startWorker = (): Promise<CliProcess> =>
  lab.startKubernetesWorker('restarting', {
    kubeconfig: sandbox.kubeconfigPath,
    args: ['--max-concurrent', '20', '--health-port', '0'],
  });

before(async () => {
  sandbox = await startSandbox();
  lab = new Lab();
  // Leases outlast the restart: the test is about the worker picking its pods up again, not about the server giving up on it.
  await lab.startServer({ LONGSHORE_LEASE_MS: '30000' });
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
});
after(async () => {
  await lab?.close();
  await sandbox?.stop();
});

test('a worker killed with 10 operations running picks up their pods again: all finish, logs contiguous, none run twice; leftovers swept', async () => {
  const worker = await startWorker();
  const targets = Array.from(
    { length: TARGETS },
    (_, i) => `  - { name: r${i}, type: generic, environments: [Cluster], tags: [fleet] }`,
  ).join('\n');
  await lab.apply(`
environments: [ { name: Cluster } ]
targets:
${targets}
projects:
  - name: LongRun
    process:
      steps:
        - name: Count
          runOn: { targetTags: [fleet] }
          resources: { requests: { cpu: 100m, memory: 32Mi } }
          script:
            body: |
              set_longshore_variable Early "set-before-the-restart-#{Longshore.Target.Name}"
              i=1
              while [ $i -le ${LINES} ]; do echo "#{Longshore.Target.Name} line $i"; i=$((i+1)); sleep 0.2; done
        - name: Report
          script: { body: 'echo "early was #{Longshore.Action[Count].Output[r0].Early} and #{Longshore.Action[Count].Output[r9].Early}"' }
`);
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  const created: string[] = [];
  const watch = await new Watch(kc).watch(
    '/api/v1/namespaces/default/pods',
    { labelSelector: 'longshore.io/worker=restarting' },
    (type: string, pod: V1Pod) => {
      if (type === 'ADDED') created.push(pod.metadata!.name!);
    },
    () => {},
  );

  const taskId = JSON.parse((await lab.cli(['deploy', 'LongRun', '--to', 'Cluster', '--output', 'json'])).output)
    .taskId as string;
  // Every operation has started printing: ten pods run their scripts.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const texts = (await lab.taskLog(taskId)).map((l) => l.text as string);
    if (Array.from({ length: TARGETS }, (_, i) => `r${i} line 3`).every((t) => texts.includes(t))) break;
    assert.ok(Date.now() < deadline, `not all ten running:\n${texts.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await worker.kill('SIGKILL'), 'SIGKILL');
  // On a busy machine an operation may finish before the kill; every other one must be resumed.
  const atKill = (await lab.api('GET', `/api/tasks/${taskId}`)).body.steps[0].operations as {
    outcome?: string | null;
  }[];
  const unfinished = atKill.filter((o) => !o.outcome).length;
  assert.ok(unfinished >= TARGETS / 2, `most operations still run at the kill (${unfinished})`);
  // Something the worker would have removed, had it lived: a Secret of an operation the server never heard of.
  await core.createNamespacedSecret({
    namespace: 'default',
    body: {
      metadata: {
        name: 'longshore-stray-workspace',
        labels: { 'longshore.io/worker': 'restarting', 'longshore.io/operation': 'no-such-operation' },
      },
      stringData: { x: 'y' },
    },
  });

  const restarted = await startWorker();
  const task = await lab.waitForTask(taskId, ['succeeded', 'failed', 'cancelled'], 60_000);
  watch.abort();
  const log = await lab.taskLog(taskId);
  const texts = log.map((l) => l.text as string);
  assert.equal(task.state, 'succeeded', texts.join('\n'));
  for (let i = 0; i < TARGETS; i++) {
    const numbers = texts.filter((t) => t.startsWith(`r${i} line `)).map((t) => Number(t.split(' ')[2]));
    assert.deepEqual(
      numbers,
      Array.from({ length: LINES }, (_, n) => n + 1),
      `r${i}: every line once, in order`,
    );
  }
  assert.equal(
    texts.filter((t) => /resuming script pod/.test(t)).length,
    unfinished,
    'each operation running at the kill says it was resumed',
  );
  assert.ok(!texts.some((t) => /lines? (is|are) missing/.test(t)), 'no gap');
  // A resumed operation that succeeded is not "stopped" as one the server took back.
  assert.doesNotMatch(restarted.output(), /no longer expects this worker/);
  // Pod names come from operation ids: a pod created again would show up twice.
  assert.equal(new Set(created).size, created.length, `a pod was created again: ${created.join(', ')}`);
  assert.equal(created.length, TARGETS + 1, 'one pod per operation (ten, and the Report step)');
  const operations = task.steps[0].operations as { outcome: string }[];
  assert.equal(operations.length, TARGETS);
  assert.ok(operations.every((o) => o.outcome === 'succeeded'));
  assert.ok(
    texts.includes('early was set-before-the-restart-r0 and set-before-the-restart-r9'),
    'variables set before the restart are reported',
  );

  await expectNothingLeft(sandbox.kubeconfigPath, 'restarting');
});

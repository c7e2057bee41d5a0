import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { Lab } from '../support/lab.js';
import { AUTOSCALED_FROM_ZERO, BURST_PROJECT } from '../support/autoscalingScenario.js';

// The seed's scenario: script pods whose requests do not fit make the cluster add nodes, which
// go away again once the work is done. A group of 2-CPU nodes that starts at zero.
let lab: Lab;
let sandbox: Sandbox;

before(async () => {
  sandbox = await startSandbox({ cluster: AUTOSCALED_FROM_ZERO });
  lab = new Lab();
  await lab.startServer();
  await lab.startKubernetesWorker('scaler', {
    kubeconfig: sandbox.kubeconfigPath,
    scriptPods: 'resources:\n  maxAllowed: { cpu: "64", memory: 64Gi }\n',
    args: ['--max-concurrent', '10'],
  });
  await lab.apply(BURST_PROJECT);
  await lab.apply(`
projects:
  - name: Huge
    process:
      steps:
        - name: Greedy
          resources: { requests: { cpu: "64" } }
          script: { body: 'echo never' }
`);
});
after(async () => {
  await lab?.close();
  await sandbox?.stop();
});

test('three 1500m operations on 2-CPU nodes from zero: pending explained live, nodes added, all succeed, nodes removed', async () => {
  const res = await lab.cli(['deploy', 'Burst', '--to', 'Cluster', '--follow']);
  if (process.env.SHOW_OUTPUT) console.log(res.output);
  assert.equal(res.code, 0, res.output);
  assert.match(res.output, /Waiting for a node: 0\/\d+ nodes are available|Waiting for a node: no nodes available/);
  assert.match(res.output, /The cluster autoscaler is adding a node \(.*autoscaled.*\)/);
  for (const t of ['t1', 't2', 't3']) assert.match(res.output, new RegExp(`\\[Work@${t}\\] working on ${t}`));

  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + 30_000;
  while ((await core.listNode()).items.length > 0) {
    assert.ok(Date.now() < deadline, 'the empty nodes are removed after the scale-down delay');
    await new Promise((r) => setTimeout(r, 500));
  }
});

test("a 64-CPU step fails fast with the autoscaler's reason", async () => {
  const started = Date.now();
  const res = await lab.cli(['deploy', 'Huge', '--to', 'Cluster', '--follow']);
  assert.equal(res.code, 2, res.output);
  assert.match(res.output, /cluster autoscaler will not add a node/);
  assert.match(res.output, /Insufficient cpu/);
  assert.doesNotMatch(res.output, /[^.]\.\.(\s|$)/, 'no sentence ends twice');
  assert.ok(Date.now() - started < 30_000, 'not after the 15-minute pending timeout');
});

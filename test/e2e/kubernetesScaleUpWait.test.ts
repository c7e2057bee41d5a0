import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { Lab } from '../support/lab.js';
import { AUTOSCALED_FROM_ZERO } from '../support/autoscalingScenario.js';

// A node group slower than the pending timeout: the step waits for the node the autoscaler is
// adding (scaleUpTimeoutMs) instead of failing at pendingTimeoutMs with the old scheduler message.
let lab: Lab;
let sandbox: Sandbox;

before(async () => {
  const [group] = AUTOSCALED_FROM_ZERO.nodeGroups;
  sandbox = await startSandbox({
    cluster: { ...AUTOSCALED_FROM_ZERO, nodeGroups: [{ ...group!, provisioningDelayMs: 3_000 }] },
  });
  lab = new Lab();
  await lab.startServer();
  await lab.startKubernetesWorker('patient', {
    kubeconfig: sandbox.kubeconfigPath,
    scriptPods: 'pendingTimeoutMs: 2000\nscaleUpTimeoutMs: 60000\n',
  });
  await lab.apply(`
environments: [ { name: Cluster } ]
projects:
  - name: Slowgrow
    process:
      steps:
        - name: Grow
          resources: { requests: { cpu: 1500m } }
          script: { body: 'echo "on the new node"' }
`);
});
after(async () => {
  await lab?.close();
  await sandbox?.stop();
});

test('a 3 s scale-up with a 2 s pending timeout: the step waits for the node and succeeds', async () => {
  const res = await lab.cli(['deploy', 'Slowgrow', '--to', 'Cluster', '--follow']);
  assert.equal(res.code, 0, res.output);
  assert.match(res.output, /The cluster autoscaler is adding a node/);
  assert.match(res.output, /\[Grow\] on the new node/);
});

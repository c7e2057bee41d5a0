import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { Lab } from '../support/lab.js';
import { startCli, type CliProcess } from '../support/cliProcess.js';

// The seed's scenario: script pods whose requests do not fit make the cluster add nodes, which
// go away again once the work is done. A group of 2-CPU nodes that starts at zero.
let lab: Lab;
let sandbox: Sandbox;
let worker: CliProcess;

before(async () => {
  sandbox = await startSandbox({
    cluster: {
      nodeGroups: [{ name: 'autoscaled', min: 0, max: 5, cpu: '2', memory: '4Gi', pods: 110, labels: {}, taints: [], provisioningDelayMs: 1_500 }],
      autoscaler: { scanIntervalMs: 300, scaleDownUnneededMs: 3_000, scaleDownUtilizationThreshold: 0.5 },
    },
  });
  lab = new Lab();
  await lab.startServer();
  const settings = join(lab.dir, 'script-pods.yaml');
  writeFileSync(settings, 'resources:\n  maxAllowed: { cpu: "64", memory: 64Gi }\n');
  const token = (await lab.api('POST', '/api/registration-tokens', {})).body.token;
  worker = startCli(['worker', '--executor', 'kubernetes', '--kubeconfig', sandbox.kubeconfigPath, '--namespace', 'default', '--script-pods', settings,
    '--server', lab.url, '--name', 'scaler', '--data', join(lab.dir, 'scaler'), '--registration-token', token, '--max-concurrent', '10']);
  await worker.waitForOutput(/worker running/);
  await lab.apply(`
environments: [ { name: Cluster } ]
targets:
  - { name: t1, type: generic, environments: [Cluster], tags: [burst] }
  - { name: t2, type: generic, environments: [Cluster], tags: [burst] }
  - { name: t3, type: generic, environments: [Cluster], tags: [burst] }
projects:
  - name: Burst
    process:
      steps:
        - name: Work
          runOn: { targetTags: [burst] }
          resources: { requests: { cpu: 1500m } }
          script: { body: 'echo "working on #{Longshore.Target.Name}"; sleep 1' }
  - name: Huge
    process:
      steps:
        - name: Greedy
          resources: { requests: { cpu: "64" } }
          script: { body: 'echo never' }
`);
});
after(async () => {
  await worker?.kill('SIGTERM');
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

test('a 64-CPU step fails fast with the autoscaler\'s reason', async () => {
  const started = Date.now();
  const res = await lab.cli(['deploy', 'Huge', '--to', 'Cluster', '--follow']);
  assert.equal(res.code, 2, res.output);
  assert.match(res.output, /cluster autoscaler will not add a node/);
  assert.match(res.output, /Insufficient cpu/);
  assert.ok(Date.now() - started < 30_000, 'not after the 15-minute pending timeout');
});

// The Kubernetes worker against a real kube-apiserver (its validation, admission, watch and
// log proxy), with the sandbox's scheduler, virtual nodes and autoscaler attached: a script pod
// as the worker builds it is accepted and run, and the autoscaling scenario holds there too.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { DEFAULT_CLUSTER } from '@longshore/sandbox';
import { AUTOSCALED_FROM_ZERO, BURST_PROJECT } from '../support/autoscalingScenario.js';
import { Lab } from '../support/lab.js';
import { expectNothingLeft } from '../support/scriptObjects.js';
import { attachSandbox, type AttachedSandbox } from './sandboxOnReference.js';
import { referenceClusterAvailable, startReferenceCluster, type ReferenceCluster } from './referenceCluster.js';

const CHART = new URL('../../charts/longshore-worker', import.meta.url).pathname;
const skip = referenceClusterAvailable()
  ? false
  : 'reference control plane not built (bash test/control-plane/build.sh)';
let ref: ReferenceCluster | undefined;
let sandbox: AttachedSandbox | undefined;
let lab: Lab | undefined;
let core: CoreV1Api;

before(async () => {
  if (skip) return;
  ref = await startReferenceCluster();
  sandbox = await attachSandbox(ref, { ...DEFAULT_CLUSTER, ...AUTOSCALED_FROM_ZERO });
  const kc = new KubeConfig();
  kc.loadFromFile(ref.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  lab = new Lab();
  await lab.startServer({ LONGSHORE_WORKER_CHART: CHART });
  await lab.startKubernetesWorker('real-api', {
    kubeconfig: ref.kubeconfigPath,
    scriptPods: 'resources:\n  requests: { cpu: 200m, memory: 64Mi }\n',
    args: ['--max-concurrent', '10'],
  });
  await lab.apply(BURST_PROJECT);
  await lab.apply(`
projects:
  - name: Plain
    process:
      steps:
        - name: Hello
          script: { body: 'echo "hello from a real API server"; set_longshore_variable Where real' }
        - name: Echo
          script: { body: 'echo "it ran on #{Longshore.Action[Hello].Output.Where}"' }
`);
});
after(async () => {
  await lab?.close();
  await sandbox?.stop();
  await ref?.stop();
});

test(
  'a deployment runs in script pods the real API server accepts: requests, log, outputs, nothing left behind',
  { skip },
  async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(ref!.kubeconfigPath);
    const seen: V1Pod[] = [];
    const watch = await new Watch(kc).watch(
      '/api/v1/namespaces/default/pods',
      { labelSelector: 'longshore.io/worker=real-api' },
      (type: string, pod: V1Pod) => {
        if (type === 'ADDED') seen.push(pod);
      },
      () => {},
    );
    const res = await lab!.cli(['deploy', 'Plain', '--to', 'Cluster', '--follow']);
    watch.abort();
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /\[Hello\] hello from a real API server/);
    assert.match(res.output, /\[Echo\] it ran on real/);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.spec!.containers[0]!.resources!.requests!.cpu, '200m');
    await expectNothingLeft(ref!.kubeconfigPath, 'real-api');
  },
);

test(
  'three 1500m operations on 2-CPU nodes: the real scheduler path explained live, nodes added, all succeed, nodes removed',
  { skip },
  async () => {
    const res = await lab!.cli(['deploy', 'Burst', '--to', 'Cluster', '--follow']);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /Waiting for a node: /);
    assert.match(res.output, /The cluster autoscaler is adding a node \(.*autoscaled.*\)/);
    for (const t of ['t1', 't2', 't3']) assert.match(res.output, new RegExp(`\\[Work@${t}\\] working on ${t}`));
    const deadline = Date.now() + 30_000;
    // The only node group starts at zero: every node there is one the autoscaler added.
    while ((await core.listNode()).items.length > 0) {
      assert.ok(Date.now() < deadline, 'the added nodes are removed after the scale-down delay');
      await new Promise((r) => setTimeout(r, 500));
    }
  },
);

test(
  'the chart installs on the real API server: the worker pod registers, runs a script pod, and the real authorizer keeps it in its namespace',
  { skip },
  async () => {
    const { execFile } = await import('node:child_process');
    const { kubeClientsDir } = await import('../sandbox/support.js');
    const { freePort } = await import('../support/cliProcess.js');
    const shell = (line: string): Promise<{ code: number; output: string }> =>
      new Promise((done) => {
        execFile(
          'sh',
          ['-c', line],
          {
            timeout: 120_000,
            env: {
              PATH: `${kubeClientsDir()}:${process.env.PATH ?? ''}`,
              HOME: lab!.dir,
              KUBECONFIG: ref!.kubeconfigPath,
            },
          },
          (err, stdout, stderr) =>
            done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
        );
      });
    await lab!.apply(`
workerPools: [ { name: Charted } ]
projects:
  - name: Charted
    process:
      steps:
        - name: InChartedWorker
          runOn: { pool: Charted }
          script: { body: 'echo "run by the charted worker"' }
`);
    const answer = await lab!.api('POST', '/api/workers/install-command', {
      pools: ['Charted'],
      name: 'charted',
      namespace: 'charted',
      values: { 'worker.healthPort': String(await freePort()) },
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const installed = await shell(answer.body.command as string);
    assert.equal(installed.code, 0, installed.output);
    const deadline = Date.now() + 90_000;
    for (;;) {
      const workers = (await lab!.api('GET', '/api/workers')).body as { items?: { name: string; status: string }[] };
      if ((workers.items ?? []).some((w) => w.name === 'charted' && w.status === 'online')) break;
      assert.ok(
        Date.now() < deadline,
        `the charted worker never registered:\n${(await shell('kubectl logs -n charted -l app.kubernetes.io/component=worker --tail=50')).output}`,
      );
      await new Promise((r) => setTimeout(r, 500));
    }
    const res = await lab!.cli(['deploy', 'Charted', '--to', 'Cluster', '--follow']);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /\[InChartedWorker\] run by the charted worker/);
    const token = await shell('kubectl create token longshore-worker-charted --namespace charted');
    assert.equal(token.code, 0, token.output);
    const outside = await shell(`kubectl --token=${token.output.trim()} get pods --namespace default -o name`);
    assert.notEqual(outside.code, 0);
    assert.match(outside.output, /forbidden/i);
    const inside = await shell(`kubectl --token=${token.output.trim()} get pods --namespace charted -o name`);
    assert.equal(inside.code, 0, inside.output);
    await shell('helm uninstall longshore-worker-charted --namespace charted --wait');
  },
);

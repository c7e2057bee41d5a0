// The node autoscaler, observed through kubectl as a user of a cluster-autoscaler cluster
// would: unschedulable pods get FailedScheduling, then TriggeredScaleUp; they run on new nodes
// after the provisioning delay; empty nodes go after the scale-down delay, a node running a
// safe-to-evict "false" pod stays; a pod no group could hold gets NotTriggerScaleUp. The same
// scenario (and `kubectl logs -f`) runs against the reference kube-apiserver with this
// package's scheduler, nodes and autoscaler attached, when that control plane is built.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startCluster, startSandbox, type ClusterConfig, type SandboxCluster } from '@longshore/sandbox';
import {
  referenceClusterAvailable,
  startReferenceCluster,
  type ReferenceCluster,
} from '../control-plane/referenceCluster.js';
import { AUTOSCALED_FROM_ZERO } from '../support/autoscalingScenario.js';
import { ClientEnv, clientsMissing, eventually } from './support.js';

const cluster: Partial<ClusterConfig> = AUTOSCALED_FROM_ZERO;

const pod = (name: string, cpu: string, script: string, extra = ''): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
${extra}spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sh, -c, ${JSON.stringify(script)}]
    resources: {requests: {cpu: ${cpu}}}
`;

async function scenario(env: ClientEnv): Promise<void> {
  const ok = async (args: string[], input?: string, timeoutMs = 30_000): Promise<string> => {
    const r = await env.kubectl(args, { ...(input === undefined ? {} : { input }), timeoutMs });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
    return r.stdout;
  };
  const events = (name: string): Promise<string> =>
    ok([
      'get',
      'events',
      '--field-selector',
      `involvedObject.name=${name}`,
      '-o',
      'jsonpath={range .items[*]}{.reason}|{.message}{"\\n"}{end}',
    ]);
  const nodes = async (): Promise<string[]> => (await ok(['get', 'nodes', '-o', 'name'])).split('\n').filter(Boolean);

  await ok(
    ['apply', '-f', '-'],
    ['a', 'b', 'c']
      .map((n) => pod(`burst-${n}`, '1500m', `echo on $NODE; sleep 2`))
      .join('---\n')
      .replaceAll(
        '    resources:',
        '    env: [{name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]\n    resources:',
      ),
  );
  const seen = await eventually(
    'FailedScheduling and TriggeredScaleUp on burst-a',
    async () => {
      const e = await events('burst-a');
      return /^FailedScheduling\|/m.test(e) && /^TriggeredScaleUp\|/m.test(e) ? e : undefined;
    },
    20_000,
  );
  assert.match(
    seen,
    /^FailedScheduling\|(0\/\d+ nodes are available: .*Insufficient cpu.*\.|no nodes available to schedule pods)$/m,
  );
  assert.match(seen, /^TriggeredScaleUp\|pod triggered scale-up: \[\{autoscaled \d->\d \(max: 5\)\}\]$/m);
  for (const n of ['a', 'b', 'c']) {
    await eventually(
      `burst-${n} succeeded`,
      async () => (await ok(['get', 'pod', `burst-${n}`, '-o', 'jsonpath={.status.phase}'])) === 'Succeeded',
      30_000,
    );
  }
  const hosts = await Promise.all(
    ['a', 'b', 'c'].map((n) => ok(['get', 'pod', `burst-${n}`, '-o', 'jsonpath={.spec.nodeName}'])),
  );
  assert.equal(new Set(hosts).size, 3, `one 2-CPU node per 1500m pod: ${hosts.join(' ')}`);
  assert.match(await ok(['logs', 'burst-a']), new RegExp(`^on ${hosts[0]}\\n$`));

  await ok(['apply', '-f', '-'], pod('huge', '64', 'true'));
  const huge = await eventually(
    'NotTriggerScaleUp on huge',
    async () => (await events('huge')).match(/^NotTriggerScaleUp\|.*$/m)?.[0],
    20_000,
  );
  assert.equal(huge, "NotTriggerScaleUp|pod didn't trigger scale-up: 1 Insufficient cpu");
  await ok(['delete', 'pod', 'huge', '--wait=false']);

  await eventually('empty nodes removed', async () => (await nodes()).length === 0, 30_000);

  // A pod with a controller (so only its annotation protects it) that must not be evicted.
  await ok(['create', 'configmap', 'owner']);
  const uid = await ok(['get', 'configmap', 'owner', '-o', 'jsonpath={.metadata.uid}']);
  await ok(
    ['apply', '-f', '-'],
    pod(
      'precious',
      '100m',
      'echo running; exec sleep 3600',
      `  annotations: {cluster-autoscaler.kubernetes.io/safe-to-evict: "false"}\n  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: ${uid}, controller: true}]\n`,
    ).replace('cpu: 100m', 'cpu: 1500m'),
  );
  await eventually(
    'precious running',
    async () => (await ok(['get', 'pod', 'precious', '-o', 'jsonpath={.status.phase}'])) === 'Running',
    30_000,
  );
  const host = await ok(['get', 'pod', 'precious', '-o', 'jsonpath={.spec.nodeName}']);
  // Its node is under the utilization threshold only if the pod could go; wait out several delays.
  const follow = env.kubectl(['logs', '-f', 'precious'], { timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 8_000));
  assert.deepEqual(await nodes(), [`node/${host}`], 'the node running a safe-to-evict "false" pod stays');
  await ok(['delete', 'pod', 'precious', '--wait=true'], undefined, 30_000);
  const followed = await follow;
  assert.equal(followed.stdout, 'running\n', followed.stderr);
}

describe('node autoscaler (kubectl)', { skip: clientsMissing() }, () => {
  test('against the sandbox', async () => {
    const sb = await startSandbox({ cluster });
    const env = new ClientEnv(sb.kubeconfigPath);
    try {
      await scenario(env);
    } finally {
      await sb.stop();
      env.cleanup();
    }
  });

  let ref: ReferenceCluster | undefined;
  let attached: SandboxCluster | undefined;
  after(async () => {
    await attached?.stop({ deleteNodes: false });
    await ref?.stop();
  });
  test(
    'against the reference kube-apiserver',
    {
      skip: referenceClusterAvailable()
        ? false
        : 'reference control plane not built (bash test/control-plane/build.sh)',
    },
    async () => {
      ref = await startReferenceCluster();
      attached = await startCluster({
        server: ref.server,
        caPem: ref.caPem,
        token: ref.adminToken,
        config: { ...(await import('@longshore/sandbox')).DEFAULT_CLUSTER, ...cluster },
      });
      const env = new ClientEnv(ref.kubeconfigPath);
      try {
        await scenario(env);
      } finally {
        env.cleanup();
      }
    },
  );
});

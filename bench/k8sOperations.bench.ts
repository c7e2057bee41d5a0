// bench/k8s-operations: one step fanned out over 200 generic targets, so the server releases 200
// no-op operations at once to one Kubernetes worker, which may run all of them (maxConcurrent and
// maxPendingPods 200, one node with room for every pod).
//
// Kubernetes API requests: every request the worker's own API user made from the deployment until
// its last pod and Secret were gone, per operation, beside the least a script pod can cost. That
// least is 5: create the workspace Secret, create the pod, one log stream, delete the pod, and one
// request that removes the Secret. The Secret must exist before the pod (a pod whose Secret is
// missing waits in FailedMount on the kubelet's back-off), so it cannot be created with the pod as
// its owner; removing it then takes either an ownerReference patch (the garbage collector deletes
// it with the pod) or a delete, not both. The pod watch and the event watch are shared by all
// operations; whatever requests they make in the window are counted too, spread over the 200.
//
// Dispatch to pod created: from the operation's creation on the server (the API does not expose
// the lease time; all 200 are created with the task) to the ADDED event of its pod on a watch of
// this process (creationTimestamp has whole seconds only). One machine, one clock. The same for a
// lone operation, deployed one at a time, is the latency without a queue in front of it.
import { readFileSync } from 'node:fs';
import { KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import type { AuditEntry, Sandbox } from '@longshore/sandbox';
import { expectNothingLeft } from '../test/support/scriptObjects.js';
import { cpuMs, deployAndWait, startKubernetesLab, WORKER_USER, type BenchOperation } from './kubernetesLab.js';
import { percentile, report, round } from './stats.js';

const MIN_REQUESTS_PER_OPERATION = 5;
const LONE_RUNS = 5;

export async function k8sOperationsBench(count = 200): Promise<Record<string, number | string>> {
  const env = await startKubernetesLab({
    workerName: 'k8s-bench',
    scriptPods: { maxConcurrentOperations: count, maxPendingPods: count },
    maxConcurrent: count,
  });
  const { lab, sandbox, workerName } = env;
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  try {
    const targets = Array.from(
      { length: count },
      (_, i) => `  - { name: k${i}, type: generic, environments: [Bench], tags: [fleet] }`,
    ).join('\n');
    const noop = (runOn = '') => `
        - name: Noop${runOn}
          resources: { requests: { cpu: 10m, memory: 16Mi } }
          script: { body: 'true' }`;
    await lab.apply(`
environments: [ { name: Bench } ]
targets:
${targets}
projects:
  - name: Lone
    process:
      steps:${noop()}
  - name: Fleet
    process:
      steps:${noop('\n          runOn: { targetTags: [fleet] }')}
`);
    // The first operation opens the shared watches and warms every process up; the figures are about a worker in service.
    await deployAndWait(lab, 'Lone', 'Bench', 120_000);
    await expectNothingLeft(sandbox.kubeconfigPath, workerName, 60_000);

    const added = new Map<string, number>();
    const watch = await new Watch(kc).watch(
      '/api/v1/namespaces/default/pods',
      { labelSelector: `longshore.io/worker=${workerName}` },
      (type: string, pod: V1Pod) => {
        const operation = pod.metadata?.labels?.['longshore.io/operation'];
        if (type === 'ADDED' && operation && !added.has(operation)) added.set(operation, Date.now());
      },
      () => {},
    );
    const latency = (operations: BenchOperation[]) =>
      operations.map((o) => {
        const at = added.get(o.id);
        if (at === undefined) throw new Error(`no pod was seen for operation ${o.id}`);
        return at - Date.parse(o.createdAt);
      });
    const pids = { worker: env.worker.child.pid!, server: lab.server!.child.pid! };
    const lone: number[] = [];
    let operations: BenchOperation[];
    let cpu: Record<'worker' | 'server' | 'sandbox' | 'pods', number>;
    let requests: AuditEntry[];
    try {
      for (let i = 0; i < LONE_RUNS; i++)
        lone.push(...latency((await deployAndWait(lab, 'Lone', 'Bench', 120_000)).operations));
      await expectNothingLeft(sandbox.kubeconfigPath, workerName, 60_000);

      const auditFrom = sandbox.audit.lastSeq;
      const before = cpuNow(pids);
      ({ operations } = await deployAndWait(lab, 'Fleet', 'Bench', 600_000));
      await expectNothingLeft(sandbox.kubeconfigPath, workerName, 60_000);
      await quiet(sandbox, auditFrom);
      const after = cpuNow(pids);
      cpu = {
        worker: after.worker - before.worker,
        server: after.server - before.server,
        sandbox: after.sandbox - before.sandbox,
        pods: after.pods - before.pods,
      };
      requests = sandbox.audit.entries({ user: WORKER_USER, afterSeq: auditFrom });
    } finally {
      watch.abort();
    }
    if (operations.length !== count) throw new Error(`expected ${count} operations, the task has ${operations.length}`);
    const burst = latency(operations);
    const first = Math.min(...operations.map((o) => Date.parse(o.createdAt)));
    const last = Math.max(...operations.map((o) => Date.parse(o.finishedAt)));
    const perOperation = requests.length / count;
    const perOp = (ms: number) => round(ms / count, 1);
    return {
      operations: count,
      'API requests per operation (min 5)': round(perOperation),
      'API requests / minimum (ratio, goal <= 1.5)': round(perOperation / MIN_REQUESTS_PER_OPERATION),
      "the worker's API requests": breakdown(requests),
      'dispatch -> pod created p50 (ms, goal <= 25)': Math.round(percentile(burst, 50)),
      'dispatch -> pod created p99 (ms)': Math.round(percentile(burst, 99)),
      [`lone operation: dispatch -> pod created, median of ${LONE_RUNS} (ms)`]: Math.round(percentile(lone, 50)),
      'operations/s (created to finished)': round(count / ((last - first) / 1000), 1),
      'CPU per operation: worker / server / sandbox / pod processes (ms)': `${perOp(cpu.worker)} / ${perOp(cpu.server)} / ${perOp(cpu.sandbox)} / ${perOp(cpu.pods)}`,
    };
  } finally {
    await env.close();
  }
}

/**
 * The worker deletes a pod and its Secret after the server has the result, and the garbage
 * collector may remove the Secret before the worker's own delete arrives: the window ends once
 * the worker has made no request for a while, so that every request for them is in it.
 */
async function quiet(sandbox: Sandbox, afterSeq: number, forMs = 2000): Promise<void> {
  let seen = -1;
  for (;;) {
    const now = sandbox.audit.entries({ user: WORKER_USER, afterSeq }).length;
    if (now === seen) return;
    seen = now;
    await new Promise((r) => setTimeout(r, forMs));
  }
}

/**
 * The sandbox runs in this process and its pods are this process's children (their CPU counts
 * once they are reaped, which every one is by the end of the window).
 */
function cpuNow(pids: { worker: number; server: number }): {
  worker: number;
  server: number;
  sandbox: number;
  pods: number;
} {
  const self = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const usage = process.cpuUsage();
  return {
    worker: cpuMs(pids.worker),
    server: cpuMs(pids.server),
    sandbox: (usage.user + usage.system) / 1000,
    pods: (Number(self[13]) + Number(self[14])) * 10,
  };
}

/** "create pods 200, get pods/log 200, ..." by count, most first; failed requests apart, with their status. */
function breakdown(requests: AuditEntry[]): string {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const key = `${r.verb} ${r.resource ?? '?'}${r.subresource ? `/${r.subresource}` : ''}${r.code >= 400 ? ` (${r.code})` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

if (import.meta.url === `file://${process.argv[1]}`)
  report('k8s-operations', await k8sOperationsBench(Number(process.argv[2] ?? 200)));

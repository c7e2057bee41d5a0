// The model against the sandbox: one small trace, run both ways. The sandbox is our in-process
// Kubernetes: its real scheduler binds the pods, virtual nodes run them as processes (`sleep`),
// and its node autoscaler adds and removes nodes. The seed's autoscaling scenario's node group
// (2-CPU nodes from zero, 1.5 s provisioning, 300 ms scans, 3 s scale-down) runs eight pods that
// share nodes, wait for new ones, and return after the nodes went away. Node-seconds come from
// when each Node object appears and disappears, waits from pod creation to its first Running.
// Tolerances: node-seconds within 20% and each pod's wait within 1 s.
import { KubeClient, startSandbox, type NodeGroupSettings } from '@longshore/sandbox';
import { AUTOSCALED_FROM_ZERO } from '../../test/support/autoscalingScenario.js';
import type { ClusterSettings } from './cluster.js';
import { nodeSeconds } from './figures.js';
import type { RequestPolicy } from './policies.js';
import { simulate } from './simulation.js';
import type { Trace } from './trace.js';
import { Gi, Mi } from './usageProfile.js';

interface CheckPod {
  name: string;
  atSeconds: number;
  cpuMillis: number;
  sleepSeconds: number;
}

/** a, b and c need two nodes; d finds no room and adds a third; e and f arrive when a, b and c
 *  are done and fit on the nodes left; g and h come after every node is gone and start the group
 *  from zero again. Arrivals are a second or more away from the events they follow, so the
 *  sandbox's few tenths of a second of overhead cannot reorder them. */
export const CROSS_CHECK_PODS: readonly CheckPod[] = [
  { name: 'a', atSeconds: 0, cpuMillis: 1500, sleepSeconds: 4 },
  { name: 'b', atSeconds: 0, cpuMillis: 1500, sleepSeconds: 4 },
  { name: 'c', atSeconds: 0, cpuMillis: 500, sleepSeconds: 3 },
  { name: 'd', atSeconds: 3, cpuMillis: 1000, sleepSeconds: 3 },
  { name: 'e', atSeconds: 7, cpuMillis: 1200, sleepSeconds: 2 },
  { name: 'f', atSeconds: 7, cpuMillis: 700, sleepSeconds: 3 },
  { name: 'g', atSeconds: 16, cpuMillis: 1500, sleepSeconds: 2 },
  { name: 'h', atSeconds: 16, cpuMillis: 300, sleepSeconds: 2 },
];

export const NODE_SECONDS_TOLERANCE = 0.2;
export const WAIT_TOLERANCE_SECONDS = 1;
const MEMORY_REQUEST = 64 * Mi;

export interface CrossCheckRun {
  nodeSeconds: number;
  nodesAdded: number;
  waits: Record<string, number>;
}

const group = (): NodeGroupSettings => AUTOSCALED_FROM_ZERO.nodeGroups[0]!;

function modelCluster(): ClusterSettings {
  const g = group();
  const a = AUTOSCALED_FROM_ZERO.autoscaler;
  return {
    group: {
      cpuMillis: Number(g.cpu) * 1000,
      memoryBytes: 4 * Gi,
      maxPods: g.pods,
      minNodes: g.min,
      maxNodes: g.max,
      provisioningSeconds: g.provisioningDelayMs / 1000,
    },
    autoscaler: {
      scanIntervalSeconds: a.scanIntervalMs / 1000,
      scaleDownUnneededSeconds: a.scaleDownUnneededMs / 1000,
    },
  };
}

/** The trace in the model: each pod a one-step deployment that sleeps (wants next to no CPU). */
export function runModel(): CrossCheckRun {
  const trace: Trace = {
    seed: 0,
    days: 1,
    projects: [],
    deployments: CROSS_CHECK_PODS.map((p) => ({
      atSeconds: p.atSeconds,
      project: p.name,
      chains: [
        [
          {
            stepKey: p.name,
            measuredPeakCpuMillis: 1,
            usage: {
              workSeconds: p.sleepSeconds,
              baseCpuMillis: 1,
              bursts: [],
              startMemoryBytes: Mi,
              peakMemoryBytes: Mi,
              memoryRampShare: 0,
            },
          },
        ],
      ],
    })),
  };
  const byName = new Map(CROSS_CHECK_PODS.map((p) => [p.name, p]));
  const policy: RequestPolicy = {
    name: 'oracle',
    resourcesFor: (run) => ({ cpuMillis: byName.get(run.stepKey)!.cpuMillis, memoryBytes: MEMORY_REQUEST }),
    observe: () => undefined,
  };
  const result = simulate(trace, policy, { cluster: modelCluster(), tickSeconds: 0.05 });
  return {
    nodeSeconds: nodeSeconds(result),
    nodesAdded: result.nodeLifetimes.length,
    waits: Object.fromEntries(result.pods.map((p) => [p.stepKey, p.waitSeconds])),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const podManifest = (name: string, cpuMillis: number, sleepSeconds: number): object => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: 'main',
        image: 'busybox',
        command: ['sleep', String(sleepSeconds)],
        resources: { requests: { cpu: `${cpuMillis}m`, memory: `${MEMORY_REQUEST / Mi}Mi` } },
      },
    ],
  },
});

/** One pod through a whole scale-up and scale-down first: the first node a fresh sandbox starts
 *  pays for loading code once (about 0.7 s), which is no part of what the model describes. */
async function warmUp(client: KubeClient): Promise<void> {
  const r = await client.request('POST', '/api/v1/namespaces/default/pods', podManifest('warm-up', 100, 0));
  if (r.status !== 201) throw new Error(`create the warm-up pod: ${r.status}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const pod = await client.request<{ status?: { phase?: string } }>('GET', '/api/v1/namespaces/default/pods/warm-up');
    const nodes = await client.request<{ items: unknown[] }>('GET', '/api/v1/nodes');
    if (pod.body.status?.phase === 'Succeeded' && nodes.body.items.length === 0) break;
    if (Date.now() > deadline) throw new Error('the warm-up pod did not finish and leave no node within 30 s');
    await sleep(100);
  }
  await client.request('DELETE', '/api/v1/namespaces/default/pods/warm-up');
}

/** The same trace in the sandbox, observed by polling its API every 50 ms. */
export async function runSandbox(): Promise<CrossCheckRun> {
  const sb = await startSandbox({ cluster: AUTOSCALED_FROM_ZERO });
  const client = new KubeClient({ server: sb.server, caPem: sb.caPem, token: sb.adminToken, timeoutMs: 10_000 });
  try {
    await warmUp(client);
    const t0 = performance.now();
    const now = (): number => (performance.now() - t0) / 1000;
    const created = new Map<string, number>();
    const running = new Map<string, number>();
    const nodes = new Map<string, { added: number; removed?: number }>();
    const names = new Set(CROSS_CHECK_PODS.map((p) => p.name));
    const creations = CROSS_CHECK_PODS.map(async (p) => {
      await sleep(p.atSeconds * 1000);
      created.set(p.name, now());
      const r = await client.request(
        'POST',
        '/api/v1/namespaces/default/pods',
        podManifest(p.name, p.cpuMillis, p.sleepSeconds),
      );
      if (r.status !== 201) throw new Error(`create pod ${p.name}: ${r.status}`);
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const t = now();
      const pods = await client.request<{ items: { metadata: { name: string }; status?: { phase?: string } }[] }>(
        'GET',
        '/api/v1/namespaces/default/pods',
      );
      for (const p of pods.body.items.filter((x) => names.has(x.metadata.name))) {
        const phase = p.status?.phase;
        if ((phase === 'Running' || phase === 'Succeeded') && !running.has(p.metadata.name))
          running.set(p.metadata.name, t);
      }
      const live = (
        await client.request<{ items: { metadata: { name: string } }[] }>('GET', '/api/v1/nodes')
      ).body.items.map((n) => n.metadata.name);
      for (const n of live) if (!nodes.has(n)) nodes.set(n, { added: t });
      for (const [n, life] of nodes) if (!live.includes(n) && life.removed === undefined) life.removed = t;
      const done =
        CROSS_CHECK_PODS.every((p) => running.has(p.name)) &&
        pods.body.items.every((p) => p.status?.phase === 'Succeeded');
      if (done && !live.length) break;
      if (Date.now() > deadline) throw new Error('the cross-check trace did not finish in the sandbox within 60 s');
      await sleep(50);
    }
    await Promise.all(creations);
    return {
      nodeSeconds: [...nodes.values()].reduce((a, n) => a + (n.removed! - n.added), 0),
      nodesAdded: nodes.size,
      waits: Object.fromEntries(CROSS_CHECK_PODS.map((p) => [p.name, running.get(p.name)! - created.get(p.name)!])),
    };
  } finally {
    client.close();
    await sb.stop();
  }
}

export interface CrossCheck {
  model: CrossCheckRun;
  sandbox: CrossCheckRun;
  /** What is outside the tolerances (empty: the model agrees with the sandbox). */
  disagreements: string[];
}

export async function crossCheck(): Promise<CrossCheck> {
  const model = runModel();
  const sandbox = await runSandbox();
  const disagreements: string[] = [];
  const off = Math.abs(sandbox.nodeSeconds - model.nodeSeconds) / model.nodeSeconds;
  if (off > NODE_SECONDS_TOLERANCE)
    disagreements.push(
      `node-seconds ${sandbox.nodeSeconds.toFixed(1)} vs ${model.nodeSeconds.toFixed(1)} (${(off * 100).toFixed(0)}% apart)`,
    );
  if (sandbox.nodesAdded !== model.nodesAdded)
    disagreements.push(`nodes added ${sandbox.nodesAdded} vs ${model.nodesAdded}`);
  for (const p of CROSS_CHECK_PODS) {
    const d = sandbox.waits[p.name]! - model.waits[p.name]!;
    if (Math.abs(d) > WAIT_TOLERANCE_SECONDS)
      disagreements.push(
        `pod ${p.name} waited ${sandbox.waits[p.name]!.toFixed(2)} s vs ${model.waits[p.name]!.toFixed(2)} s`,
      );
  }
  return { model, sandbox, disagreements };
}

/** `npm run bench -- autoscaling-crosscheck`. */
export async function crossCheckBench(): Promise<Record<string, number | string | boolean>> {
  const { model, sandbox, disagreements } = await crossCheck();
  const figures: Record<string, number | string | boolean> = {
    'node-seconds: sandbox / model': `${sandbox.nodeSeconds.toFixed(1)} / ${model.nodeSeconds.toFixed(1)} (tolerance ${NODE_SECONDS_TOLERANCE * 100}%)`,
    'nodes added: sandbox / model': `${sandbox.nodesAdded} / ${model.nodesAdded}`,
  };
  for (const p of CROSS_CHECK_PODS)
    figures[`pod ${p.name} wait s: sandbox / model`] =
      `${sandbox.waits[p.name]!.toFixed(2)} / ${model.waits[p.name]!.toFixed(2)}`;
  figures['within tolerance'] = disagreements.length === 0;
  if (disagreements.length) figures.disagreements = disagreements.join('; ');
  return figures;
}

// The cluster half of the sandbox configuration (part 2): node groups, the image table and
// the timings of the scheduler, nodes and autoscaler. Defaults: one small always-on node and an
// autoscaled group starting at zero, with delays short enough to watch in a demo.
import { Quantity } from '@longshore/protocol';
import { CloneType, Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { quantityValue } from '../validation/quantity.js';
import { mustBe } from './sandboxConfigProblems.js';

const POSITIVE_QUANTITY = 'a positive quantity such as "2", "500m" or "4Gi"';

const Taint = Type.Object(
  {
    key: Type.String({ minLength: 1 }),
    value: Type.Optional(Type.String()),
    effect: Type.Union([Type.Literal('NoSchedule'), Type.Literal('PreferNoSchedule'), Type.Literal('NoExecute')]),
  },
  { additionalProperties: false },
);

const NodeGroup = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$',
      expected: 'a DNS label of at most 42 characters',
    }),
    min: Type.Integer({ minimum: 0, maximum: 100, default: 0 }),
    /** Default: min, and at least 1. */
    max: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    cpu: CloneType(Quantity, { default: '2', expected: POSITIVE_QUANTITY }),
    memory: CloneType(Quantity, { default: '4Gi', expected: POSITIVE_QUANTITY }),
    pods: Type.Integer({ minimum: 1, maximum: 10_000, default: 110 }),
    labels: Type.Record(Type.String(), Type.String(), { default: {} }),
    taints: Type.Array(Taint, { default: [] }),
    /** Time from the scale-up decision to the node registering (a cloud VM's boot, shortened). */
    provisioningDelayMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 3_000 }),
  },
  { additionalProperties: false },
);
export type NodeGroupSettings = Omit<Static<typeof NodeGroup>, 'max'> & { max: number };

const Image = Type.Object(
  {
    /** Built on another image of the table (a Dockerfile's FROM): its command, files and ENV, with what this entry sets over them. */
    from: Type.Optional(Type.String({ minLength: 1 })),
    entrypoint: Type.Optional(Type.Array(Type.String())),
    cmd: Type.Optional(Type.Array(Type.String())),
    workingDir: Type.Optional(Type.String({ pattern: '^/', expected: 'an absolute path' })),
    /** The image's ENV, over its base's. */
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false, default: {} },
);
export type ImageSettings = Static<typeof Image>;

const DEFAULT_NODE_GROUPS: NodeGroupSettings[] = [
  {
    name: 'default',
    min: 1,
    max: 1,
    cpu: '2',
    memory: '4Gi',
    pods: 110,
    labels: {},
    taints: [],
    provisioningDelayMs: 0,
  },
  {
    name: 'autoscaled',
    min: 0,
    max: 5,
    cpu: '2',
    memory: '4Gi',
    pods: 110,
    labels: {},
    taints: [],
    provisioningDelayMs: 3_000,
  },
];

export const ClusterSettings = Type.Object(
  {
    /** Run the scheduler, virtual nodes and autoscaler (false: an API server only, as in part 1). */
    enabled: Type.Boolean({ default: true }),
    nodeGroups: Type.Array(NodeGroup, { default: DEFAULT_NODE_GROUPS }),
    /**
     * Extra or overriding image -> command entries. Keys are repositories ("busybox", "ghcr.io/x/y"),
     * which every tag of them runs, or "repository:tag" for one tag only ("longshore/worker:0.2.0").
     */
    images: Type.Record(Type.String(), Image, { default: {} }),
    /** What `longshore/worker` runs: `node <workerEntry>`. Default this repository's CLI build. */
    workerEntry: Type.Optional(Type.String({ minLength: 1, expected: 'a path' })),
    /** Per-container cgroups with the limits (where the host allows them). */
    cgroups: Type.Boolean({ default: true }),
    /** What gives containers their volume mounts: auto takes bubblewrap where it works, else unshare. */
    containerRuntime: Type.Union([Type.Literal('auto'), Type.Literal('bubblewrap'), Type.Literal('unshare')], {
      default: 'auto',
    }),
    /** Container restart back-off (kubelet: 10 s doubling to 5 min; shorter here for demos). */
    restartBackoffMs: Type.Integer({ minimum: 10, maximum: 600_000, default: 1_000 }),
    restartBackoffMaxMs: Type.Integer({ minimum: 10, maximum: 600_000, default: 20_000 }),
    autoscaler: Type.Object(
      {
        scanIntervalMs: Type.Integer({ minimum: 50, maximum: 600_000, default: 1_000 }),
        scaleDownUnneededMs: Type.Integer({ minimum: 0, maximum: 86_400_000, default: 20_000 }),
        scaleDownUtilizationThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
export type ClusterConfig = Omit<Static<typeof ClusterSettings>, 'nodeGroups'> & { nodeGroups: NodeGroupSettings[] };

/** The settings as parsed, with each node group's maximum filled in. */
export function completeCluster(cluster: Static<typeof ClusterSettings>): ClusterConfig {
  return { ...cluster, nodeGroups: cluster.nodeGroups.map((g) => ({ ...g, max: g.max ?? Math.max(g.min, 1) })) };
}

/** What the schema cannot say: quantities above zero, reachable minimums, distinct group names. */
export function clusterProblems(cluster: ClusterConfig): string[] {
  const problems: string[] = [];
  cluster.nodeGroups.forEach((g, i) => {
    const path = `cluster.nodeGroups[${i}]`;
    for (const resource of ['cpu', 'memory'] as const) {
      if ((quantityValue(g[resource]) ?? 0) <= 0)
        problems.push(mustBe(`${path}.${resource}`, POSITIVE_QUANTITY, g[resource]));
    }
    if (g.max < g.min) {
      problems.push(
        mustBe(`${path}.max`, `at least min (${g.min}); otherwise the group could never reach its minimum`, g.max),
      );
    }
  });
  const names = cluster.nodeGroups.map((g) => g.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) problems.push(mustBe('cluster.nodeGroups', 'groups with distinct names', duplicate));
  return problems;
}

export const DEFAULT_CLUSTER: ClusterConfig = completeCluster(
  Value.Default(ClusterSettings, {}) as Static<typeof ClusterSettings>,
);

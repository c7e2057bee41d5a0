// The cluster half of the sandbox configuration (part 2): node groups, the image table and
// the timings of the scheduler, nodes and autoscaler. Validated like the rest: unknown keys
// and wrong types are refused with their path. Defaults: one small always-on node and an
// autoscaled group starting at zero, with delays short enough to watch in a demo.
import { SandboxError } from '../errors.js';
import type { ContainerRuntimePreference } from '../nodes/containerRuntime.js';
import { parseQuantity } from '../validation/quantity.js';

export interface NodeGroupSettings {
  name: string;
  min: number;
  max: number;
  cpu: string;
  memory: string;
  pods: number;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  /** Time from the scale-up decision to the node registering (a cloud VM's boot, shortened). */
  provisioningDelayMs: number;
}

export interface ImageSettings {
  entrypoint: string[];
  cmd: string[];
  workingDir?: string;
}

export interface ClusterConfig {
  /** Run the scheduler, virtual nodes and autoscaler (false: an API server only, as in part 1). */
  enabled: boolean;
  nodeGroups: NodeGroupSettings[];
  /** Extra or overriding image -> command entries (keys are repositories: "busybox", "ghcr.io/x/y"). */
  images: Record<string, ImageSettings>;
  /** What `longshore/worker` runs: `node <workerEntry>`. Default this repository's CLI build. */
  workerEntry?: string;
  /** Per-container cgroups with the limits (where the host allows them). */
  cgroups: boolean;
  /** What gives containers their volume mounts: auto takes bubblewrap where it works, else unshare. */
  containerRuntime: ContainerRuntimePreference;
  /** Container restart back-off (kubelet: 10 s doubling to 5 min; shorter here for demos). */
  restartBackoffMs: number;
  restartBackoffMaxMs: number;
  autoscaler: { scanIntervalMs: number; scaleDownUnneededMs: number; scaleDownUtilizationThreshold: number };
}

export const DEFAULT_CLUSTER: ClusterConfig = {
  enabled: true,
  nodeGroups: [
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
  ],
  images: {},
  cgroups: true,
  containerRuntime: 'auto',
  restartBackoffMs: 1_000,
  restartBackoffMaxMs: 20_000,
  autoscaler: { scanIntervalMs: 1_000, scaleDownUnneededMs: 20_000, scaleDownUtilizationThreshold: 0.5 },
};

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (path: string, want: string, got: unknown): never => {
  throw new SandboxError('CONFIG_INVALID', `sandbox config: ${path} must be ${want}, got ${JSON.stringify(got)}`);
};
function checkKeys(o: Raw, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw new SandboxError(
        'CONFIG_INVALID',
        `sandbox config: unknown key ${path}.${k} (known: ${allowed.join(', ')})`,
      );
}
const int = (v: unknown, path: string, min: number, max: number): number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
    ? v
    : fail(path, `an integer from ${min} to ${max}`, v);
const strList = (v: unknown, path: string): string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : fail(path, 'a list of strings', v);
const quantity = (v: unknown, path: string): string => {
  const s = typeof v === 'number' ? String(v) : v;
  return typeof s === 'string' && (parseQuantity(s) ?? 0) > 0
    ? s
    : fail(path, 'a positive quantity such as "2", "500m" or "4Gi"', v);
};

function parseGroup(g: unknown, path: string): NodeGroupSettings {
  if (!isObj(g)) return fail(path, 'a mapping', g);
  checkKeys(g, ['name', 'min', 'max', 'cpu', 'memory', 'pods', 'labels', 'taints', 'provisioningDelayMs'], path);
  if (typeof g.name !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/.test(g.name))
    fail(`${path}.name`, 'a DNS label of at most 42 characters', g.name);
  const min = g.min === undefined ? 0 : int(g.min, `${path}.min`, 0, 100);
  const max = g.max === undefined ? Math.max(min, 1) : int(g.max, `${path}.max`, 0, 100);
  if (max < min) fail(`${path}.max`, `at least min (${min}); otherwise the group could never reach its minimum`, max);
  const labels =
    g.labels === undefined
      ? {}
      : isObj(g.labels) && Object.values(g.labels).every((v) => typeof v === 'string')
        ? (g.labels as Record<string, string>)
        : fail(`${path}.labels`, 'a mapping of strings', g.labels);
  const taints =
    g.taints === undefined
      ? []
      : Array.isArray(g.taints)
        ? g.taints.map((t, i) => {
            const tp = `${path}.taints[${i}]`;
            if (!isObj(t)) return fail(tp, 'a mapping with key and effect', t);
            checkKeys(t, ['key', 'value', 'effect'], tp);
            if (typeof t.key !== 'string' || !t.key) fail(`${tp}.key`, 'a non-empty string', t.key);
            if (!['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(String(t.effect)))
              fail(`${tp}.effect`, 'NoSchedule, PreferNoSchedule or NoExecute', t.effect);
            if (t.value !== undefined && typeof t.value !== 'string') fail(`${tp}.value`, 'a string', t.value);
            return {
              key: t.key as string,
              effect: t.effect as string,
              ...(t.value !== undefined ? { value: t.value as string } : {}),
            };
          })
        : fail(`${path}.taints`, 'a list', g.taints);
  return {
    name: g.name as string,
    min,
    max,
    cpu: g.cpu === undefined ? '2' : quantity(g.cpu, `${path}.cpu`),
    memory: g.memory === undefined ? '4Gi' : quantity(g.memory, `${path}.memory`),
    pods: g.pods === undefined ? 110 : int(g.pods, `${path}.pods`, 1, 10_000),
    labels,
    taints,
    provisioningDelayMs:
      g.provisioningDelayMs === undefined
        ? 3_000
        : int(g.provisioningDelayMs, `${path}.provisioningDelayMs`, 0, 3_600_000),
  };
}

export function parseClusterConfig(input: unknown): ClusterConfig {
  const c = structuredClone(DEFAULT_CLUSTER);
  if (input === undefined) return c;
  if (!isObj(input)) return fail('cluster', 'a mapping', input);
  checkKeys(
    input,
    [
      'enabled',
      'nodeGroups',
      'images',
      'workerEntry',
      'cgroups',
      'containerRuntime',
      'restartBackoffMs',
      'restartBackoffMaxMs',
      'autoscaler',
    ],
    'cluster',
  );
  for (const k of ['enabled', 'cgroups'] as const) {
    if (input[k] !== undefined)
      c[k] = typeof input[k] === 'boolean' ? input[k] : fail(`cluster.${k}`, 'true or false', input[k]);
  }
  if (input.nodeGroups !== undefined) {
    if (!Array.isArray(input.nodeGroups)) fail('cluster.nodeGroups', 'a list', input.nodeGroups);
    c.nodeGroups = (input.nodeGroups as unknown[]).map((g, i) => parseGroup(g, `cluster.nodeGroups[${i}]`));
    const names = c.nodeGroups.map((g) => g.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) fail('cluster.nodeGroups', 'groups with distinct names', dup);
  }
  if (input.images !== undefined) {
    if (!isObj(input.images)) fail('cluster.images', 'a mapping of image to {entrypoint, cmd}', input.images);
    for (const [k, v] of Object.entries(input.images as Raw)) {
      const p = `cluster.images[${JSON.stringify(k)}]`;
      if (!isObj(v)) fail(p, 'a mapping with entrypoint and/or cmd', v);
      checkKeys(v as Raw, ['entrypoint', 'cmd', 'workingDir'], p);
      const workingDir = (v as Raw).workingDir;
      if (workingDir !== undefined && (typeof workingDir !== 'string' || !workingDir.startsWith('/')))
        fail(`${p}.workingDir`, 'an absolute path', workingDir);
      c.images[k] = {
        entrypoint: (v as Raw).entrypoint === undefined ? [] : strList((v as Raw).entrypoint, `${p}.entrypoint`),
        cmd: (v as Raw).cmd === undefined ? [] : strList((v as Raw).cmd, `${p}.cmd`),
        ...(workingDir !== undefined ? { workingDir: workingDir as string } : {}),
      };
    }
  }
  if (input.containerRuntime !== undefined) {
    const r = input.containerRuntime;
    c.containerRuntime =
      r === 'auto' || r === 'bubblewrap' || r === 'unshare'
        ? r
        : fail('cluster.containerRuntime', 'auto, bubblewrap or unshare', r);
  }
  if (input.workerEntry !== undefined)
    c.workerEntry =
      typeof input.workerEntry === 'string' && input.workerEntry
        ? input.workerEntry
        : fail('cluster.workerEntry', 'a path', input.workerEntry);
  if (input.restartBackoffMs !== undefined)
    c.restartBackoffMs = int(input.restartBackoffMs, 'cluster.restartBackoffMs', 10, 600_000);
  if (input.restartBackoffMaxMs !== undefined)
    c.restartBackoffMaxMs = int(input.restartBackoffMaxMs, 'cluster.restartBackoffMaxMs', 10, 600_000);
  if (input.autoscaler !== undefined) {
    const a = input.autoscaler;
    if (!isObj(a)) return fail('cluster.autoscaler', 'a mapping', a);
    checkKeys(a, ['scanIntervalMs', 'scaleDownUnneededMs', 'scaleDownUtilizationThreshold'], 'cluster.autoscaler');
    if (a.scanIntervalMs !== undefined)
      c.autoscaler.scanIntervalMs = int(a.scanIntervalMs, 'cluster.autoscaler.scanIntervalMs', 50, 600_000);
    if (a.scaleDownUnneededMs !== undefined)
      c.autoscaler.scaleDownUnneededMs = int(
        a.scaleDownUnneededMs,
        'cluster.autoscaler.scaleDownUnneededMs',
        0,
        86_400_000,
      );
    if (a.scaleDownUtilizationThreshold !== undefined) {
      const t = a.scaleDownUtilizationThreshold;
      c.autoscaler.scaleDownUtilizationThreshold =
        typeof t === 'number' && t >= 0 && t <= 1
          ? t
          : fail('cluster.autoscaler.scaleDownUtilizationThreshold', 'a number from 0 to 1', t);
    }
  }
  return c;
}

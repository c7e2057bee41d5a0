import type { CoreV1Event, V1Node, V1Pod } from '@kubernetes/client-node';
import { formatNanos, parseQuantity, type HealthCheckResult } from '@longshore/protocol';
import { buildCheckPod } from './checkPod.js';
import type { KubeApi } from './kubeApi.js';
import { LABELS, workerSelector } from './kubeNames.js';
import { PendingExplainer } from './pendingExplainer.js';
import type { ScriptPodsConfig } from './scriptPodsConfig.js';
import { permissionName, workerPermissions, type Permission } from './workerPermissions.js';

export interface KubernetesHealthInput {
  api: KubeApi;
  config: ScriptPodsConfig;
  /** The chart's version, from the worker's metadata; absent outside the chart. */
  chartVersion?: string | undefined;
  /** Every right the worker needs; default the declared list (workerPermissions.ts). */
  permissions?: Permission[];
  now?: () => number;
}

export interface ExecutorHealth {
  checks: HealthCheckResult[];
  facts: Record<string, string>;
}

/** A pending pod's detail names at most this many pods: the report has a size limit. */
const MAX_PENDING_NAMED = 5;

/**
 * What the Kubernetes executor's health check looks at: the API server and its version, every
 * right the worker needs (asked, not assumed: a Role edited by hand shows here, not in a failed
 * deployment), a check pod created and deleted, the script pods still pending and why, and the
 * nodes' allocatable capacity where the worker may see it. Each part that throws becomes a
 * failed check with its message; with no API server the rest is not asked.
 */
export async function kubernetesHealth(input: KubernetesHealthInput, signal: AbortSignal): Promise<ExecutorHealth> {
  const { api, chartVersion } = input;
  const facts: Record<string, string> = {};
  if (chartVersion) facts.chartVersion = chartVersion;
  const apiServer = await attempt('Kubernetes API server', async () => {
    const version = await api.serverVersion({ signal });
    facts.apiServerVersion = version;
    return `reachable, version ${version}`;
  });
  if (!apiServer.ok) return { checks: [apiServer], facts };
  const [permissions, checkPod, pending, capacity] = await Promise.all([
    permissionChecks(input, signal),
    attempt(`check pod in namespace ${api.namespace}`, () => createCheckPod(input, signal)),
    attempt('pending script pods', () => pendingPods(input, signal, facts)),
    capacityFacts(input, signal, facts),
  ]);
  return { checks: [apiServer, ...permissions, checkPod, pending, ...capacity], facts };
}

async function attempt(
  name: string,
  check: () => Promise<string | { ok: boolean; detail: string }>,
): Promise<HealthCheckResult> {
  try {
    const found = await check();
    return typeof found === 'string' ? { name, ok: true, detail: found } : { name, ...found };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/** One check per right: `pods/create in namespace longshore`, denied ones named as such. */
async function permissionChecks(input: KubernetesHealthInput, signal: AbortSignal): Promise<HealthCheckResult[]> {
  const { api } = input;
  const namespace = api.namespace;
  return Promise.all(
    (input.permissions ?? workerPermissions()).map((permission) => {
      const right = permissionName(permission);
      return attempt(`${right} in namespace ${namespace}`, async () => {
        const answer = await api.selfSubjectAccessReview({ ...permission, namespace }, { signal });
        return answer.allowed
          ? 'allowed'
          : {
              ok: false,
              detail: `${right} denied in namespace ${namespace}: the worker's Role must allow it (see the chart's rbac)`,
            };
      });
    }),
  );
}

/** Creation is the check: the API server, the Role, quotas and admission accepted a script-like pod. It is deleted whatever happened. */
async function createCheckPod(input: KubernetesHealthInput, signal: AbortSignal): Promise<string> {
  const { api, config } = input;
  const pod = buildCheckPod(config);
  const name = pod.metadata!.name!;
  try {
    await api.createPod(pod, { signal });
  } finally {
    // Not under the check's signal: a check that timed out must still not leave its pod behind.
    await api.deletePod(name, 0).catch(() => {
      // The sweeper removes check pods it finds (they carry the health-check label).
    });
  }
  return `created and deleted pod ${name} (image ${config.worker.image})`;
}

async function pendingPods(
  input: KubernetesHealthInput,
  signal: AbortSignal,
  facts: Record<string, string>,
): Promise<{ ok: boolean; detail: string }> {
  const { api, config } = input;
  const now = input.now?.() ?? Date.now();
  const pods = (await api.listPods(workerSelector(config.workerName), { signal })).filter(
    (p) => p.status?.phase === 'Pending' && p.metadata?.labels?.[LABELS.operation] !== undefined,
  );
  facts.pendingScriptPods = String(pods.length);
  if (pods.length === 0) return { ok: true, detail: 'none' };
  const explained = await Promise.all(
    pods
      .slice(0, MAX_PENDING_NAMED)
      .map(async (pod) => explain(pod, await api.listPodEvents(podName(pod), { signal }), config, now)),
  );
  const more = pods.length > MAX_PENDING_NAMED ? `; and ${pods.length - MAX_PENDING_NAMED} more` : '';
  return {
    // Waiting is normal (a node on its way); a pod the explainer would fail is not.
    ok: explained.every((e) => !e.failing),
    detail: `${pods.length} pending: ${explained.map((e) => e.text).join('; ')}${more}`,
  };
}

function explain(
  pod: V1Pod,
  events: CoreV1Event[],
  config: ScriptPodsConfig,
  now: number,
): { text: string; failing: boolean } {
  const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : now;
  const update = new PendingExplainer(config, created).update(pod, events, now);
  const age = `${Math.round((now - created) / 1000)} s`;
  if (update.verdict.kind === 'fail')
    return { text: `${podName(pod)} (${age}): ${update.verdict.message}`, failing: true };
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message;
  const why = update.lines.at(-1) ?? (unscheduled ? `Waiting for a node: ${unscheduled}` : 'nothing reported yet');
  return { text: `${podName(pod)} (${age}): ${why}`, failing: false };
}

function podName(pod: V1Pod): string {
  return pod.metadata?.name ?? '?';
}

/**
 * The nodes' allocatable CPU and memory, when the worker may list nodes. A namespaced worker
 * usually may not (nodes are cluster-scoped), which is a fact, not a failure.
 */
async function capacityFacts(
  input: KubernetesHealthInput,
  signal: AbortSignal,
  facts: Record<string, string>,
): Promise<HealthCheckResult[]> {
  const { api } = input;
  const result = await attempt('allocatable capacity', async () => {
    const answer = await api.selfSubjectAccessReview({ verb: 'list', group: '', resource: 'nodes' }, { signal });
    if (!answer.allowed) {
      facts.allocatable = 'not visible: the worker may not list nodes';
      return 'not visible: the worker may not list nodes';
    }
    const nodes = (await api.listNodes({ signal })).filter((n) => !n.spec?.unschedulable);
    facts.schedulableNodes = String(nodes.length);
    facts.allocatableCpu = formatNanos(sum(nodes, 'cpu'));
    facts.allocatableMemory = formatNanos(sum(nodes, 'memory'));
    return `${nodes.length} schedulable nodes: cpu ${facts.allocatableCpu}, memory ${facts.allocatableMemory}`;
  });
  // Only a failure is worth a line of its own; the numbers are facts.
  return result.ok ? [] : [result];
}

function sum(nodes: V1Node[], resource: 'cpu' | 'memory'): bigint {
  let total = 0n;
  for (const node of nodes) {
    const value = node.status?.allocatable?.[resource];
    if (value !== undefined) total += parseQuantity(value).nanos;
  }
  return total;
}

import {
  LONGSHORE_VERSION,
  Quantity,
  RESOURCE_NAMES,
  ResourceList,
  compareQuantities,
  isQuantity,
} from '@longshore/protocol';
import { describeSchemaError, parseConfig } from '@longshore/protocol/config';
import { Type, type Static } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/value';

/**
 * The Kubernetes executor's configuration: one schema, parsed once at start. The chart renders
 * it from `scriptPods.*` values, so names follow the chart; units are in the names.
 */

/** Kubernetes objects passed through as they are: the API server validates them on pod creation. */
const KubeObject = Type.Record(Type.String(), Type.Unknown());
const StringMap = Type.Record(Type.String(), Type.String());
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const ScriptPodsConfig = Type.Object(
  {
    /** The worker's own namespace: script pods, their Secrets and the watch live here only (a namespaced Role). */
    namespace: Type.String({ minLength: 1, maxLength: 63, pattern: DNS_LABEL }),
    /** Goes into the `longshore.io/worker` label, which the pod watch and the sweeper select on. */
    workerName: Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$' }),
    worker: Type.Object(
      {
        /** The image a script runs in when its step sets no execution container. */
        image: Type.String({ minLength: 1, default: `longshore/worker-tools:${LONGSHORE_VERSION}` }),
        imagePullPolicy: Type.Optional(
          Type.Union([Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')]),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    packageFetcher: Type.Object(
      {
        /** Runs the init container that downloads an operation's packages: the worker's own image has the `longshore` CLI. */
        image: Type.String({ minLength: 1, default: `longshore/worker:${LONGSHORE_VERSION}` }),
      },
      { additionalProperties: false, default: {} },
    ),
    resources: Type.Object(
      {
        /**
         * What the scheduler and the cluster autoscaler size nodes by. Too low and pods pile onto
         * one node with no scale-up (Octopus' 25m default starved scripts); too high and every
         * step waits for a node.
         */
        requests: Type.Optional(ResourceList),
        limits: Type.Optional(ResourceList),
        /** The most a step may request; a step asking for more is rejected, not silently shrunk. */
        maxAllowed: Type.Optional(ResourceList),
      },
      { additionalProperties: false, default: {} },
    ),
    nodeSelector: Type.Optional(StringMap),
    tolerations: Type.Optional(Type.Array(KubeObject)),
    affinity: Type.Optional(KubeObject),
    labels: Type.Optional(StringMap),
    annotations: Type.Optional(StringMap),
    /** Secret names, for private registries of execution container images. */
    imagePullSecrets: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }))),
    /** The script pods' own ServiceAccount (its Role is the chart's `permissions.scriptPodRules`), never the worker's. */
    serviceAccountName: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    /** The chart's upgrader ServiceAccount: the server's upgrades of this worker run under it. */
    upgraderServiceAccountName: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    podSecurityContext: Type.Optional(KubeObject),
    containerSecurityContext: Type.Optional(KubeObject),
    /** A strategic merge patch over the pod spec, applied last, for everything without a value of its own. */
    podSpecPatch: Type.Optional(KubeObject),
    /**
     * A pod still pending after this long fails with the scheduler's last message. 15 min covers
     * a node scale-up on the big clouds (2-5 min) with room; GitHub's 10 min default is a known
     * source of failures while Karpenter provisions. Each TriggeredScaleUp restarts the clock.
     */
    pendingTimeoutMs: Type.Integer({ minimum: 1000, default: 15 * 60_000 }),
    /**
     * While the cluster autoscaler adds a node for the pod (TriggeredScaleUp, no NotTriggerScaleUp
     * since), it may stay pending this long, even past pendingTimeoutMs: a slow node group (GPU
     * nodes, a cold Karpenter pool) must not fail a step whose node is on its way.
     */
    scaleUpTimeoutMs: Type.Integer({ minimum: 1000, default: 15 * 60_000 }),
    /** How long image pull errors may persist before the operation fails (Buildkite: 30 s); a registry blip recovers within it. */
    imagePullGraceMs: Type.Integer({ minimum: 0, default: 30_000 }),
    /** Cancel deletes the pod with this grace: the bootstrap forwards TERM to the script and still writes its end marker. */
    deleteGracePeriodSeconds: Type.Integer({ minimum: 0, maximum: 3600, default: 30 }),
    maxConcurrentOperations: Type.Integer({ minimum: 1, maximum: 10000, default: 50 }),
    /** Operations wait for a slot before creating their pod while this many of ours are pending: unschedulable work must not flood the autoscaler. */
    maxPendingPods: Type.Integer({ minimum: 1, maximum: 10000, default: 20 }),
    /** How often the sweeper looks for orphaned pods and Secrets. */
    sweepIntervalMs: Type.Integer({ minimum: 1000, default: 60_000 }),
    /** The limit for one Kubernetes API call (log streams: for their first byte). */
    apiTimeoutMs: Type.Integer({ minimum: 100, default: 30_000 }),
    /**
     * How often a running script pod's usage is read from metrics.k8s.io, for right-sizing; 0 reads
     * none. metrics-server refreshes every 15 s by default, so reading more often only repeats it.
     */
    usageSampleIntervalMs: Type.Integer({ minimum: 0, default: 5_000 }),
  },
  { additionalProperties: false },
);
export type ScriptPodsConfig = Static<typeof ScriptPodsConfig>;

/** Defaults used when the chart gives no resources: small enough for an idle cluster, big enough to trigger scale-up under load. */
export const DEFAULT_RESOURCES = {
  requests: { cpu: '250m', memory: '256Mi' },
  limits: { memory: '1Gi' },
  maxAllowed: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '20Gi' },
} as const satisfies Record<string, ResourceList>;

/**
 * Defaults filled in, numbers from strings converted (the chart passes environment variables),
 * then checked, including across fields. Every problem is reported with its path and what it
 * would break.
 */
export function parseScriptPodsConfig(input: unknown): ScriptPodsConfig {
  const config = parseConfig(ScriptPodsConfig, input, {
    subject: 'The script pod configuration',
    describe: describeQuantityError,
    check: (parsed) => crossSettingProblems(withDefaultResources(parsed)),
  });
  return withDefaultResources(config);
}

/** Each resource list the chart leaves out is the default one; a list given replaces it whole. */
function withDefaultResources(config: ScriptPodsConfig): ScriptPodsConfig {
  const {
    requests = DEFAULT_RESOURCES.requests,
    limits = DEFAULT_RESOURCES.limits,
    maxAllowed = DEFAULT_RESOURCES.maxAllowed,
  } = config.resources;
  return { ...config, resources: { requests: { ...requests }, limits: { ...limits }, maxAllowed: { ...maxAllowed } } };
}

function crossSettingProblems(config: ScriptPodsConfig): string[] {
  const problems = resourceProblems(config);
  if (config.maxPendingPods > config.maxConcurrentOperations) {
    problems.push(
      `/maxPendingPods: ${config.maxPendingPods} is more than /maxConcurrentOperations (${config.maxConcurrentOperations}), so it would never apply; lower it or remove it`,
    );
  }
  return problems;
}

function describeQuantityError(error: ValueError): string {
  return error.type === ValueErrorType.StringPattern && error.schema.pattern === Quantity.pattern
    ? notAQuantity(error.path, String(error.value))
    : describeSchemaError(error);
}

function notAQuantity(path: string, text: string): string {
  return `${path}: '${text}' is not a Kubernetes quantity (e.g. 500m, 2, 512Mi)`;
}

function resourceProblems(config: ScriptPodsConfig): string[] {
  const problems: string[] = [];
  const { requests = {}, limits = {}, maxAllowed = {} } = config.resources;
  const lists = { requests, limits, maxAllowed } as const;
  // The schema's pattern lets through what cannot be compared exactly (1e999999999).
  for (const [list, values] of Object.entries(lists)) {
    for (const name of RESOURCE_NAMES) {
      const q = values[name];
      if (q !== undefined && !isQuantity(q)) problems.push(notAQuantity(`/resources/${list}/${name}`, q));
    }
  }
  if (problems.length > 0) return problems;
  for (const name of RESOURCE_NAMES) {
    const [request, limit, cap] = [requests[name], limits[name], maxAllowed[name]];
    if (request !== undefined && limit !== undefined && compareQuantities(request, limit) > 0) {
      problems.push(
        `/resources/requests/${name}: ${request} is more than /resources/limits/${name} (${limit}); Kubernetes rejects a pod whose request exceeds its limit, so no script pod could start`,
      );
    }
    if (request !== undefined && cap !== undefined && compareQuantities(request, cap) > 0) {
      problems.push(
        `/resources/requests/${name}: ${request} is more than /resources/maxAllowed/${name} (${cap}); the default would break the cap steps are held to, so raise maxAllowed or lower the request`,
      );
    }
    if (limit !== undefined && cap !== undefined && compareQuantities(limit, cap) > 0) {
      problems.push(
        `/resources/limits/${name}: ${limit} is more than /resources/maxAllowed/${name} (${cap}); the default would break the cap steps are held to, so raise maxAllowed or lower the limit`,
      );
    }
  }
  return problems;
}

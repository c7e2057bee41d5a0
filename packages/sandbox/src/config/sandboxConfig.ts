// The sandbox's configuration: one schema, parsed once at start (`longshore sandbox --config
// sandbox.yaml`). Unknown keys and wrong types are refused with the path and what is expected,
// because a typo silently ignored is a sandbox that does not do what its user thinks.
import { readFileSync } from 'node:fs';
import { LongshoreError } from '@longshore/protocol';
import { parseConfig } from '@longshore/protocol/config';
import { Type, type Static } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { ClusterSettings, clusterProblems, completeCluster, type ClusterConfig } from './clusterConfig.js';
import { sandboxConfigProblem } from './sandboxConfigProblems.js';

const StaticToken = Type.Object(
  {
    token: Type.String({ minLength: 8, secret: true }),
    user: Type.String({ minLength: 1 }),
    groups: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type StaticTokenConfig = Static<typeof StaticToken>;

const enabled = Type.Boolean({ default: true });
const Controllers = Type.Object(
  {
    deployments: enabled,
    replicaSets: enabled,
    replicationControllers: enabled,
    daemonSets: enabled,
    /** Deletes pods bound to nodes that no longer exist (kube's pod GC). */
    podGarbageCollector: enabled,
    /** Available=True/Local on APIServices without a service (kube-aggregator's part). */
    apiServiceAvailability: enabled,
    serviceAccounts: enabled,
    garbageCollector: enabled,
    namespaces: enabled,
    rootCaPublisher: enabled,
    /** Endpoints and EndpointSlices of Services with a selector. */
    endpoints: enabled,
    /** batch/v1 Jobs run to completion. */
    jobs: enabled,
    /** batch/v1 CronJobs create Jobs on their schedule. */
    cronJobs: enabled,
    /** First delay before a Job's failed pod is replaced, doubling per failure (default 1 s; kube-controller-manager: 10 s). */
    jobPodBackoffMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  },
  { additionalProperties: false, default: {} },
);
export type ControllersConfig = Static<typeof Controllers>;

const SandboxSettings = Type.Object(
  {
    /** Address to listen on; the sandbox is for one machine. */
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    /** 0 picks a free port. */
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
    /** Where the kubeconfig is written; default a fresh temporary directory. */
    kubeconfigPath: Type.Optional(Type.String({ minLength: 1 })),
    /** Name of the cluster/context/user in the kubeconfig. */
    contextName: Type.String({ minLength: 1, default: 'longshore-sandbox' }),
    /** The admin's bearer token (group system:masters); default random. */
    adminToken: Type.Optional(
      Type.String({ minLength: 16, secret: true, expected: 'at least 16 characters (it grants everything)' }),
    ),
    /** More static tokens (e.g. a CI user with no group, to test RBAC). */
    tokens: Type.Array(StaticToken, { default: [] }),
    /** Writes remembered for watch resume; a watch from an older resourceVersion answers 410. */
    historySize: Type.Integer({ minimum: 100, maximum: 10_000_000, default: 20_000 }),
    /** How often a watch with allowWatchBookmarks=true gets a BOOKMARK (kube-apiserver: ~1 min). */
    bookmarkIntervalMs: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 60_000 }),
    /** Extra names/IPs for the serving certificate (when clients reach it by another name). */
    certificateHosts: Type.Array(Type.String(), { default: [] }),
    controllers: Controllers,
    /** Scheduler, virtual nodes, node groups and images (see clusterConfig.ts). */
    cluster: ClusterSettings,
  },
  { additionalProperties: false },
);
export type SandboxConfig = Omit<Static<typeof SandboxSettings>, 'cluster'> & { cluster: ClusterConfig };

/** Validates a partial configuration (from YAML or code) and fills in the defaults; every problem is reported. */
export function parseSandboxConfig(input: unknown): SandboxConfig {
  const parsed = parseConfig(SandboxSettings, input, {
    subject: 'The sandbox configuration',
    describe: sandboxConfigProblem(SandboxSettings),
    check: (config) => clusterProblems(completeCluster(config.cluster)),
  });
  return { ...parsed, cluster: completeCluster(parsed.cluster) };
}

export const DEFAULT_CONFIG: SandboxConfig = parseSandboxConfig({});

export function loadSandboxConfig(file: string): SandboxConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LongshoreError('CONFIG_INVALID', `sandbox config: cannot read ${file}: ${String(err)}`, undefined, {
      cause: err,
    });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new LongshoreError('CONFIG_INVALID', `sandbox config: ${file} is not valid YAML: ${String(err)}`, undefined, {
      cause: err,
    });
  }
  return parseSandboxConfig(raw);
}

/** The configuration with secrets replaced, for logging. */
export function redactConfig(c: SandboxConfig): SandboxConfig {
  return {
    ...c,
    ...(c.adminToken ? { adminToken: '<redacted>' } : {}),
    tokens: c.tokens.map((t) => ({ ...t, token: '<redacted>' })),
  };
}

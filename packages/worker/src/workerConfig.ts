import { CertificateThumbprint, ExecutorKind, WorkerName } from '@longshore/protocol';
import { configFromEnv, describeSchemaError, parseConfig, type EnvironmentVariables } from '@longshore/protocol/config';
import { CloneType, Type, type Static } from '@sinclair/typebox';

/**
 * The worker's whole configuration, parsed once at start. The pools a worker serves are not
 * here: its registration token decides them on the server.
 */
export const WorkerConfig = Type.Object(
  {
    serverUrl: Type.String({
      pattern: '^https?://[^\\s/]+',
      description: 'The URL of the Longshore server; the worker only dials out to it',
    }),
    serverThumbprint: Type.Optional(
      Type.String({
        pattern: CertificateThumbprint.pattern,
        description:
          "Pins the server's certificate by its SHA-256 thumbprint (colons optional): exactly that certificate is trusted, under any host name. Default: the system's CAs decide",
      }),
    ),
    registrationToken: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'Needed on the first start only: the credential it earns is stored in dataDir and used from then on',
      }),
    ),
    name: CloneType(WorkerName, {
      description: 'Unique on the server; the Kubernetes worker labels its script pods with it',
    }),
    executor: Type.Optional(
      CloneType(ExecutorKind, {
        description: 'local: operations as child processes; kubernetes: each in its own script pod',
      }),
    ),
    maxConcurrentOperations: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 1,
      description:
        'Operations run at once; the Kubernetes executor also holds back while maxPendingPods of its pods wait for nodes',
    }),
    dataDir: Type.String({
      minLength: 1,
      description: "Holds credential.json; keep it across restarts or the worker can't reconnect",
    }),
    tempDir: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Parent of the local executor’s per-operation directories (default: the OS temp dir)',
      }),
    ),
    /** The server holds an idle poll this long: shorter costs requests, longer delays noticing a dead connection. */
    pollWaitMs: Type.Integer({
      minimum: 0,
      maximum: 60000,
      default: 30000,
      description: 'How long the server may hold an idle poll',
    }),
    requestTimeoutMs: Type.Integer({
      minimum: 1000,
      maximum: 600000,
      default: 30000,
      description: 'Limit for one call to the server (a poll gets pollWaitMs on top)',
    }),
    downloadTimeoutMs: Type.Integer({ minimum: 1000, default: 600000, description: 'Limit for one package download' }),
    /** How long stop() lets operations finish before it cancels them. The chart's terminationGracePeriodSeconds must exceed it by at least 15 s. */
    drainDeadlineMs: Type.Integer({
      minimum: 0,
      default: 60000,
      description: 'On stop, how long running operations may finish before they are cancelled',
    }),
    healthPort: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 65535,
        description: 'Serves /livez, /readyz and /metrics on this port (0: any free port); off when unset',
      }),
    ),
    /** Retry interval after an answer that a retry only repeats (credential rejected, worker disabled). */
    rejectedRetryMs: Type.Integer({
      minimum: 100,
      default: 60000,
      description:
        'Retry interval after an answer a retry only repeats (a used registration token, a wrong certificate)',
    }),
  },
  { additionalProperties: false },
);
export type WorkerConfig = Static<typeof WorkerConfig>;

/** Environment variables the worker reads, by the setting each one sets; flags override them. */
export const WORKER_ENV_SETTINGS: Record<string, keyof WorkerConfig> = {
  LONGSHORE_URL: 'serverUrl',
  LONGSHORE_SERVER_THUMBPRINT: 'serverThumbprint',
  LONGSHORE_REGISTRATION_TOKEN: 'registrationToken',
  LONGSHORE_WORKER_NAME: 'name',
  LONGSHORE_MAX_CONCURRENT: 'maxConcurrentOperations',
  LONGSHORE_HEALTH_PORT: 'healthPort',
  LONGSHORE_DRAIN_DEADLINE_MS: 'drainDeadlineMs',
  LONGSHORE_REJECTED_RETRY_MS: 'rejectedRetryMs',
};

/** The settings the environment gives (empty values count as unset), converted by the schema; parseWorkerConfig checks them. */
export function workerConfigFromEnv(env: EnvironmentVariables): Partial<WorkerConfig> {
  return configFromEnv(WorkerConfig, env, WORKER_ENV_SETTINGS) as Partial<WorkerConfig>;
}

/** Defaults filled in, numbers from strings converted (for flags), then checked; every problem is reported with its path. */
export function parseWorkerConfig(input: unknown): WorkerConfig {
  return parseConfig(WorkerConfig, input, {
    subject: 'The worker configuration',
    describe: (e) =>
      e.path === '/serverThumbprint'
        ? `/serverThumbprint: expected 64 hex digits (the SHA-256 thumbprint the server prints; colons allowed), got '${String(e.value)}'`
        : describeSchemaError(e),
    check: serverUrlProblems,
  });
}

function serverUrlProblems(config: WorkerConfig): string[] {
  if (!URL.canParse(config.serverUrl)) return ['/serverUrl: not a URL'];
  if (config.serverThumbprint !== undefined && new URL(config.serverUrl).protocol !== 'https:') {
    return [
      `/serverThumbprint: pins an HTTPS server's certificate, but ${config.serverUrl} is plain HTTP; use the server's https:// URL or drop the thumbprint`,
    ];
  }
  return [];
}

/** The configuration as it may be logged: the registration token is a secret. */
export function redactWorkerConfig(config: WorkerConfig): Record<string, unknown> {
  return { ...config, registrationToken: config.registrationToken === undefined ? undefined : '[redacted]' };
}

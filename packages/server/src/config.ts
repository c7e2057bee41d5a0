import { Type, type Static } from '@sinclair/typebox';
import { configFromEnv, parseConfig, type EnvironmentVariables } from '@longshore/protocol/config';
import { databaseUrlProblem, redactDatabaseUrl } from './store/databaseUrl.js';

/** Published with each release; the install command adds `--version <server version>`. */
export const DEFAULT_WORKER_CHART = 'oci://ghcr.io/longshore/charts/longshore-worker';

/**
 * The server's whole configuration, parsed once at start. Units are in the names.
 * The lease and heartbeat defaults decide how soon a vanished worker's operations are marked
 * `lost`: shorter finds dead workers sooner but needs the worker's poll to come back well within it.
 */
export const ServerConfig = Type.Object({
  host: Type.String({
    default: '127.0.0.1',
    description: 'Address to listen on; 0.0.0.0 to accept connections from other machines',
  }),
  port: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 8080,
    description: 'Port to listen on (0: any free port)',
  }),
  /**
   * Off by default: with it, a second server started by mistake on the same port would silently
   * take half the connections instead of failing with EADDRINUSE.
   */
  reusePort: Type.Boolean({
    default: false,
    description:
      'Share the port with other server processes on this machine that set it too (SO_REUSEPORT; Linux): the kernel spreads connections over them, e.g. several nodes on one host, or pods that share a host network',
  }),
  dataDir: Type.String({
    minLength: 1,
    default: '.longshore',
    description: 'Database, master key, package feed and the first admin API key',
  }),
  /** Unset: SQLite in dataDir, for one server. Several server nodes share one PostgreSQL database. */
  database: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'PostgreSQL URL of the store (postgres://user:password@host:5432/database), for one or several server nodes; default: SQLite in <dataDir>/longshore.db',
    }),
  ),
  /**
   * Base64 of 32 bytes; when absent the key lives in `<dataDir>/master.key` (mode 0600). Every node
   * on one database must have the same key: the database holds a check of it (startup/masterKeyCheck.ts).
   */
  masterKey: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9+/]{43}=$',
      description:
        'Base64 of 32 bytes that encrypts secrets at rest (openssl rand -base64 32); default: <dataDir>/master.key, created on first start. Every server node on one database needs the same key',
    }),
  ),
  /**
   * Several server nodes share packages through one of these: a directory every node mounts, or
   * the database itself (chunked rows: simple, but every download reads the bytes from the store).
   */
  packageStorage: Type.Union([Type.Literal('directory'), Type.Literal('database')], {
    default: 'directory',
    description:
      'Where pushed packages are kept: directory (packageDirectory) or database (in the store, in 1 MiB chunks; for small installations, no shared directory needed)',
  }),
  packageDirectory: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'The package directory of packageStorage directory; default: <dataDir>/packages. With several server nodes, a share (NFS/SMB) every node mounts at this path',
    }),
  ),
  /** The URL workers and clients use to reach this server; install commands carry it. */
  publicUrl: Type.Optional(
    Type.String({
      pattern: '^https?://[^\\s/]+(/\\S*)?$',
      description:
        'The URL workers and clients reach the server at (install commands carry it); default: https://<host>:<port> (http:// with insecureHttp), the machine name for host 0.0.0.0 or ::',
    }),
  ),
  insecureHttp: Type.Boolean({
    default: false,
    description:
      'Serve plain HTTP instead of HTTPS: API keys and worker credentials then cross the network readable; for a TLS-terminating proxy in front, or a loopback-only server',
  }),
  tlsCertFile: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'PEM certificate (chain) to serve; default: a self-signed certificate made on first start in <dataDir>/tls, valid for 10 years',
    }),
  ),
  tlsKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of tlsCertFile' })),
  workerChart: Type.String({
    minLength: 1,
    default: DEFAULT_WORKER_CHART,
    description:
      "The Helm chart install commands name, at this server's version: an oci:// reference, a repo/chart or a local path",
  }),
  portalDir: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "The built web portal (index.html and assets/) served at /; default: the portal beside the server's package (packages/portal/dist)",
    }),
  ),
  upgradeChart: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "The chart (a directory or a .tgz) the server upgrades Kubernetes workers with; its version and appVersion are the chart and worker versions this server ships. Default: workerChart when that is a local path, else the chart beside the server's package",
    }),
  ),
  upgradeReadyTimeoutSeconds: Type.Integer({
    minimum: 10,
    maximum: 3600,
    default: 300,
    description:
      "How long an upgraded Kubernetes worker has to come back ready, beyond the old worker's drain deadline (it drains first), before the upgrade is rolled back",
  }),
  leaseMs: Type.Integer({
    minimum: 500,
    default: 60_000,
    description: 'An operation whose worker has not polled for this long is marked lost',
  }),
  workerOfflineAfterMs: Type.Integer({
    minimum: 500,
    default: 90_000,
    description: 'A worker unheard of for this long shows as offline',
  }),
  /** After a server restart, how long workers get to come back before their operations are lost. */
  restartGraceMs: Type.Integer({
    minimum: 0,
    default: 60_000,
    description: 'After a server restart, how long workers get to reconnect before their operations are lost',
  }),
  sweepIntervalMs: Type.Integer({
    minimum: 100,
    default: 5_000,
    description: 'How often expired leases, overdue health checks and workers due a check are looked for',
  }),
  maxPollWaitMs: Type.Integer({
    minimum: 0,
    maximum: 60_000,
    default: 25_000,
    description: 'The longest an idle worker poll is held open; must be shorter than leaseMs',
  }),
  nodeName: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'How this server node is listed by `longshore server nodes`. Default: host name and port',
    }),
  ),
  /** Heartbeats are one small write each; the lease is what decides how soon a dead node's tasks move on. */
  nodeHeartbeatMs: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 3_000,
    description: "How often a server node renews its registration, its tasks' leases and the scheduled work it holds",
  }),
  nodeLeaseMs: Type.Integer({
    minimum: 300,
    default: 10_000,
    description:
      'A server node unheard of for this long is gone: another node takes over its tasks and scheduled work. At least twice nodeHeartbeatMs',
  }),
  noUsableWorkerTimeoutSeconds: Type.Integer({
    minimum: 1,
    default: 600,
    description:
      "How long a step's operations wait when no worker of their pool can take them (none registered, or all disabled, offline or unhealthy) before they fail",
  }),
  bodyLimitBytes: Type.Integer({ minimum: 1024, default: 8 * 1024 * 1024, description: 'Largest JSON request body' }),
  maxPackageBytes: Type.Integer({
    minimum: 1024,
    default: 256 * 1024 * 1024,
    description: 'Largest package pushed to the built-in feed',
  }),
  registrationTokenTtlMinutes: Type.Integer({
    minimum: 1,
    default: 60,
    description: 'Default lifetime of a worker registration token',
  }),
  sessionHours: Type.Integer({
    minimum: 1,
    maximum: 24 * 30,
    default: 12,
    description: 'How long a portal sign-in lasts before the user signs in again',
  }),
  signInAttempts: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 5,
    description: 'Failed sign-ins in a row after which a user is locked out for signInLockoutMinutes',
  }),
  auditRetentionDays: Type.Integer({
    minimum: 1,
    maximum: 36_500,
    default: 365,
    description: 'How long the audit log keeps an entry; older ones are removed hourly',
  }),
  signInLockoutMinutes: Type.Integer({
    minimum: 1,
    maximum: 24 * 60,
    default: 15,
    description: 'How long a user stays locked out after signInAttempts failed sign-ins',
  }),
  oidcIssuer: Type.Optional(
    Type.String({
      pattern: '^https?://[^\\s/]+(/\\S*)?$',
      description:
        "Single sign-on: the OpenID Connect provider's issuer URL (https://; http:// only on this machine), discovered through its /.well-known/openid-configuration. Unset: no single sign-on",
    }),
  ),
  oidcClientId: Type.Optional(
    Type.String({ minLength: 1, description: 'The client id this server has at the OpenID Connect provider' }),
  ),
  oidcClientSecret: Type.Optional(
    Type.String({ minLength: 1, description: 'The client secret of oidcClientId (never logged)' }),
  ),
  oidcProviderName: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description: "The provider's name on the portal's button (Sign in with <name>); default: the issuer's host name",
    }),
  ),
  oidcScopes: Type.String({
    minLength: 1,
    default: 'openid profile email',
    description:
      'The scopes asked for, space-separated; openid is required, profile and email give names and addresses',
  }),
  oidcUsernameClaim: Type.String({
    minLength: 1,
    default: 'preferred_username',
    description:
      "The claim a first-time user's name comes from (then email, then sub); a name already taken gets a number added",
  }),
  oidcDefaultTeams: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description:
      'Teams (names or ids) a user joins on their first single sign-on; none: they can sign in, and do nothing until an administrator adds them to a team',
  }),
  webhookTimeoutMs: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 10_000,
    description: "How long one webhook delivery attempt waits for the receiver's answer",
  }),
  webhookRetryBaseMs: Type.Integer({
    minimum: 10,
    default: 10_000,
    description:
      'The wait after a webhook delivery first fails; each next wait is 3 times longer (a fifth either way at random), up to webhookRetryMaxDelayMs',
  }),
  webhookRetryMaxDelayMs: Type.Integer({
    minimum: 10,
    default: 3_600_000,
    description: 'The longest wait between two attempts of a webhook delivery',
  }),
  webhookMaxAttempts: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 30,
    description:
      'Attempts after which a webhook delivery is failed; with the default waits the last comes about 24 hours after the first',
  }),
  webhookDeliveryRetentionDays: Type.Integer({
    minimum: 1,
    maximum: 3650,
    default: 30,
    description: 'How long delivered and failed webhook deliveries stay in the delivery log',
  }),
  logLevel: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('silent'),
    ],
    { default: 'info', description: 'Log level of the JSON log on stdout' },
  ),
});
export type ServerConfig = Static<typeof ServerConfig>;
export type ServerConfigInput = Partial<ServerConfig>;

/** Defaults filled in, text converted, then checked, including across settings; every problem is reported. */
export function parseServerConfig(input: ServerConfigInput): ServerConfig {
  return parseConfig(ServerConfig, input, { subject: 'Server configuration', check: crossSettingProblems });
}

function crossSettingProblems(config: ServerConfig): string[] {
  const problems: string[] = [];
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    problems.push(
      `${config.tlsCertFile === undefined ? '/tlsCertFile' : '/tlsKeyFile'}: tlsCertFile and tlsKeyFile go together: give both (your certificate and its key), or neither for a self-signed certificate`,
    );
  }
  if (config.insecureHttp && config.tlsCertFile !== undefined) {
    problems.push(
      '/insecureHttp: insecureHttp serves plain HTTP, so tlsCertFile and tlsKeyFile would be ignored: drop one or the other',
    );
  }
  if (config.leaseMs <= config.maxPollWaitMs) {
    problems.push(
      `/leaseMs: leaseMs (${config.leaseMs}) must be longer than maxPollWaitMs (${config.maxPollWaitMs}); otherwise a worker waiting in a long-poll loses its operations`,
    );
  }
  if (config.nodeLeaseMs < 2 * config.nodeHeartbeatMs) {
    problems.push(
      `/nodeLeaseMs: nodeLeaseMs (${config.nodeLeaseMs}) must be at least twice nodeHeartbeatMs (${config.nodeHeartbeatMs}); otherwise one late heartbeat lets another node take over the tasks of a node that is alive`,
    );
  }
  if (config.packageStorage === 'database' && config.packageDirectory !== undefined) {
    problems.push(
      '/packageDirectory: packageDirectory is where packageStorage directory keeps packages, but packageStorage is database: drop one or the other',
    );
  }
  const databaseProblem = config.database === undefined ? undefined : databaseUrlProblem(config.database);
  if (databaseProblem) problems.push(`/database: ${databaseProblem}`);
  problems.push(...singleSignOnProblems(config));
  if (config.webhookRetryMaxDelayMs < config.webhookRetryBaseMs) {
    problems.push(
      `/webhookRetryMaxDelayMs: webhookRetryMaxDelayMs (${config.webhookRetryMaxDelayMs}) must be at least webhookRetryBaseMs (${config.webhookRetryBaseMs}); otherwise no retry could wait as long as the first`,
    );
  }
  return problems;
}

const LOOPBACK_HOST = /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/;

function singleSignOnProblems(config: ServerConfig): string[] {
  const { oidcIssuer, oidcClientId, oidcClientSecret } = config;
  const given = [oidcIssuer, oidcClientId, oidcClientSecret].filter((s) => s !== undefined).length;
  if (given === 0) return [];
  const problems: string[] = [];
  if (given < 3)
    problems.push(
      `/${oidcIssuer === undefined ? 'oidcIssuer' : oidcClientId === undefined ? 'oidcClientId' : 'oidcClientSecret'}: oidcIssuer, oidcClientId and oidcClientSecret go together: give all three for single sign-on, or none`,
    );
  if (oidcIssuer !== undefined && URL.canParse(oidcIssuer)) {
    const issuer = new URL(oidcIssuer);
    if (issuer.protocol === 'http:' && !LOOPBACK_HOST.test(issuer.hostname))
      problems.push(
        `/oidcIssuer: ${oidcIssuer} is plain HTTP: the provider's keys and the tokens would cross the network readable; use https:// (http:// is allowed only for a provider on this machine)`,
      );
  }
  if (!config.oidcScopes.split(/\s+/).includes('openid'))
    problems.push(`/oidcScopes: '${config.oidcScopes}' lacks openid, without which the provider sends no ID token`);
  return problems;
}

/** Settings never logged. */
const SECRET_SETTINGS = ['masterKey', 'oidcClientSecret'] as const;

/** The configuration as it may be logged: secrets removed. */
export function redactServerConfig(config: ServerConfig): Record<string, unknown> {
  const redacted: Record<string, unknown> = { ...config };
  for (const name of SECRET_SETTINGS) if (redacted[name] !== undefined) redacted[name] = '[redacted]';
  if (config.database !== undefined) redacted.database = redactDatabaseUrl(config.database);
  return redacted;
}

/** Settings a deployment may give as environment variables (LONGSHORE_LEASE_MS=...), converted by the schema. */
export const SERVER_ENV_SETTINGS: Record<string, keyof ServerConfig> = {
  LONGSHORE_DATABASE_URL: 'database',
  LONGSHORE_MASTER_KEY: 'masterKey',
  LONGSHORE_PACKAGE_STORAGE: 'packageStorage',
  LONGSHORE_PACKAGE_DIRECTORY: 'packageDirectory',
  LONGSHORE_PUBLIC_URL: 'publicUrl',
  LONGSHORE_REUSE_PORT: 'reusePort',
  LONGSHORE_INSECURE_HTTP: 'insecureHttp',
  LONGSHORE_TLS_CERT_FILE: 'tlsCertFile',
  LONGSHORE_TLS_KEY_FILE: 'tlsKeyFile',
  LONGSHORE_WORKER_CHART: 'workerChart',
  LONGSHORE_PORTAL_DIR: 'portalDir',
  LONGSHORE_UPGRADE_CHART: 'upgradeChart',
  LONGSHORE_UPGRADE_READY_TIMEOUT_SECONDS: 'upgradeReadyTimeoutSeconds',
  LONGSHORE_LEASE_MS: 'leaseMs',
  LONGSHORE_WORKER_OFFLINE_AFTER_MS: 'workerOfflineAfterMs',
  LONGSHORE_SWEEP_INTERVAL_MS: 'sweepIntervalMs',
  LONGSHORE_RESTART_GRACE_MS: 'restartGraceMs',
  LONGSHORE_MAX_POLL_WAIT_MS: 'maxPollWaitMs',
  LONGSHORE_NODE_NAME: 'nodeName',
  LONGSHORE_NODE_HEARTBEAT_MS: 'nodeHeartbeatMs',
  LONGSHORE_NODE_LEASE_MS: 'nodeLeaseMs',
  LONGSHORE_NO_USABLE_WORKER_TIMEOUT_SECONDS: 'noUsableWorkerTimeoutSeconds',
  LONGSHORE_MAX_PACKAGE_BYTES: 'maxPackageBytes',
  LONGSHORE_REGISTRATION_TOKEN_TTL_MINUTES: 'registrationTokenTtlMinutes',
  LONGSHORE_SESSION_HOURS: 'sessionHours',
  LONGSHORE_SIGN_IN_ATTEMPTS: 'signInAttempts',
  LONGSHORE_SIGN_IN_LOCKOUT_MINUTES: 'signInLockoutMinutes',
  LONGSHORE_AUDIT_RETENTION_DAYS: 'auditRetentionDays',
  LONGSHORE_OIDC_ISSUER: 'oidcIssuer',
  LONGSHORE_OIDC_CLIENT_ID: 'oidcClientId',
  LONGSHORE_OIDC_CLIENT_SECRET: 'oidcClientSecret',
  LONGSHORE_OIDC_PROVIDER_NAME: 'oidcProviderName',
  LONGSHORE_OIDC_SCOPES: 'oidcScopes',
  LONGSHORE_OIDC_USERNAME_CLAIM: 'oidcUsernameClaim',
  LONGSHORE_OIDC_DEFAULT_TEAMS: 'oidcDefaultTeams',
  LONGSHORE_WEBHOOK_TIMEOUT_MS: 'webhookTimeoutMs',
  LONGSHORE_WEBHOOK_RETRY_BASE_MS: 'webhookRetryBaseMs',
  LONGSHORE_WEBHOOK_RETRY_MAX_DELAY_MS: 'webhookRetryMaxDelayMs',
  LONGSHORE_WEBHOOK_MAX_ATTEMPTS: 'webhookMaxAttempts',
  LONGSHORE_WEBHOOK_DELIVERY_RETENTION_DAYS: 'webhookDeliveryRetentionDays',
};

export function serverConfigFromEnv(env: EnvironmentVariables): ServerConfigInput {
  return configFromEnv(ServerConfig, env, SERVER_ENV_SETTINGS) as ServerConfigInput;
}

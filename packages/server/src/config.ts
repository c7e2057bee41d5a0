import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { LongshoreError } from '@longshore/protocol';

/**
 * The server's whole configuration, parsed once at start. Units are in the names.
 * The lease and heartbeat defaults decide how soon a vanished worker's operations are marked
 * `lost`: shorter finds dead workers sooner but needs the worker's poll to come back well within it.
 */
export const ServerConfig = Type.Object({
  host: Type.String({ default: '127.0.0.1', description: 'Address to listen on; 0.0.0.0 to accept connections from other machines' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'Port to listen on (0: any free port)' }),
  dataDir: Type.String({ minLength: 1, default: '.longshore', description: 'Database, master key, package feed and the first admin API key' }),
  /** Base64 of 32 bytes; when absent the key lives in `<dataDir>/master.key` (mode 0600). */
  masterKey: Type.Optional(Type.String({ description: 'Base64 of 32 bytes that encrypts secrets at rest; default: <dataDir>/master.key, created on first start' })),
  /** The URL workers and clients use to reach this server, when it differs from the listen address. */
  publicUrl: Type.Optional(Type.String({ description: 'The URL workers and clients use, when it differs from the listen address' })),
  leaseMs: Type.Integer({ minimum: 500, default: 60_000, description: 'An operation whose worker has not polled for this long is marked lost' }),
  workerOfflineAfterMs: Type.Integer({ minimum: 500, default: 90_000, description: 'A worker unheard of for this long shows as offline' }),
  /** After a server restart, how long workers get to come back before their operations are lost. */
  restartGraceMs: Type.Integer({ minimum: 0, default: 60_000, description: 'After a server restart, how long workers get to reconnect before their operations are lost' }),
  sweepIntervalMs: Type.Integer({ minimum: 100, default: 5_000, description: 'How often expired leases are looked for' }),
  maxPollWaitMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 25_000, description: 'The longest an idle worker poll is held open; must be shorter than leaseMs' }),
  bodyLimitBytes: Type.Integer({ minimum: 1024, default: 8 * 1024 * 1024, description: 'Largest JSON request body' }),
  maxPackageBytes: Type.Integer({ minimum: 1024, default: 256 * 1024 * 1024, description: 'Largest package pushed to the built-in feed' }),
  registrationTokenTtlMinutes: Type.Integer({ minimum: 1, default: 60, description: 'Default lifetime of a worker registration token' }),
  logLevel: Type.Union(
    [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('silent')],
    { default: 'info', description: 'Log level of the JSON log on stdout' },
  ),
});
export type ServerConfig = Static<typeof ServerConfig>;
export type ServerConfigInput = Partial<ServerConfig>;

export function parseServerConfig(input: ServerConfigInput): ServerConfig {
  const withDefaults = Value.Default(ServerConfig, structuredClone(input));
  const errors = [...Value.Errors(ServerConfig, withDefaults)];
  if (errors.length > 0) {
    const detail = errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; ');
    throw new LongshoreError('CONFIG_INVALID', `Server configuration is not valid: ${detail}`);
  }
  const config = withDefaults as ServerConfig;
  if (config.leaseMs <= config.maxPollWaitMs) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `leaseMs (${config.leaseMs}) must be longer than maxPollWaitMs (${config.maxPollWaitMs}); otherwise a worker waiting in a long-poll loses its operations`,
    );
  }
  return config;
}

/** The configuration as it may be logged: secrets removed. */
export function redactServerConfig(config: ServerConfig): Record<string, unknown> {
  const { masterKey, ...rest } = config;
  return masterKey === undefined ? rest : { ...rest, masterKey: '[redacted]' };
}

/** Settings a deployment may give as environment variables (LONGSHORE_LEASE_MS=...), numbers converted. */
export const SERVER_ENV_SETTINGS: Record<string, keyof ServerConfig> = {
  LONGSHORE_MASTER_KEY: 'masterKey',
  LONGSHORE_PUBLIC_URL: 'publicUrl',
  LONGSHORE_LEASE_MS: 'leaseMs',
  LONGSHORE_WORKER_OFFLINE_AFTER_MS: 'workerOfflineAfterMs',
  LONGSHORE_SWEEP_INTERVAL_MS: 'sweepIntervalMs',
  LONGSHORE_RESTART_GRACE_MS: 'restartGraceMs',
  LONGSHORE_MAX_POLL_WAIT_MS: 'maxPollWaitMs',
  LONGSHORE_MAX_PACKAGE_BYTES: 'maxPackageBytes',
  LONGSHORE_REGISTRATION_TOKEN_TTL_MINUTES: 'registrationTokenTtlMinutes',
};

export function serverConfigFromEnv(env: NodeJS.ProcessEnv): ServerConfigInput {
  const out: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(SERVER_ENV_SETTINGS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    out[key] = key === 'masterKey' || key === 'publicUrl' ? raw : Number.isNaN(Number(raw)) ? raw : Number(raw);
  }
  return out as ServerConfigInput;
}

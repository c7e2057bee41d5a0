import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LONGSHORE_VERSION, LongshoreError, type ExecutorKind } from '@longshore/protocol';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import { keepTrying } from './retry.js';
import type { AgentChannel } from './serverClient.js';
import type { WorkerConfig } from './workerConfig.js';

/** What registration earned; registration tokens may be single-use, so losing this means a new token. */
export const StoredCredential = Type.Object({
  workerId: Type.String(),
  credential: Type.String({ minLength: 1 }),
  serverUrl: Type.String(),
  name: Type.String(),
  pools: Type.Array(Type.String()),
});
export type StoredCredential = Static<typeof StoredCredential>;

export function credentialPath(dataDir: string): string {
  return join(dataDir, 'credential.json');
}

export async function loadCredential(dataDir: string): Promise<StoredCredential | undefined> {
  const path = credentialPath(dataDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LongshoreError('CONFIG_INVALID', `Cannot read the worker's credential at ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!Value.Check(StoredCredential, value)) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `${path} is not a valid credential file; delete it and start the worker with a new registration token`,
    );
  }
  return value;
}

/** Written aside and renamed into place, so a crash never leaves half a file; readable by this user only. */
export async function saveCredential(dataDir: string, credential: StoredCredential): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = credentialPath(dataDir);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(credential, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

export interface ObtainCredentialOptions {
  config: WorkerConfig;
  channel: Pick<AgentChannel, 'register'>;
  executor: ExecutorKind;
  log: Logger;
  /** Ends the registration attempts (stop() during start()). */
  signal: AbortSignal;
  random?: () => number;
}

/**
 * The credential stored in dataDir, or a new one from registering with the token (retried until
 * the server answers). Registration happens once per worker, not once per start.
 */
export async function obtainCredential(options: ObtainCredentialOptions): Promise<string> {
  const { config, log } = options;
  const stored = await loadCredential(config.dataDir);
  if (stored && stored.serverUrl === config.serverUrl && stored.name === config.name) {
    log.info({ workerId: stored.workerId, pools: stored.pools }, 'using the stored credential');
    return stored.credential;
  }
  if (stored) log.warn({ for: { serverUrl: stored.serverUrl, name: stored.name } }, 'the stored credential is for another server or name; registering again');
  const token = config.registrationToken;
  if (token === undefined) {
    throw new LongshoreError('CONFIG_INVALID', `/registrationToken: needed to register, as ${config.dataDir} holds no credential for this server and name`);
  }
  const request = { token, name: config.name, executor: options.executor, version: LONGSHORE_VERSION, capacity: config.maxConcurrentOperations };
  const registered = await keepTrying((signal) => options.channel.register(request, signal), {
    what: 'registering with the server',
    signal: options.signal,
    log,
    rejectedRetryMs: config.rejectedRetryMs,
    random: options.random,
  });
  await saveCredential(config.dataDir, { ...registered, serverUrl: config.serverUrl, name: config.name });
  log.info({ workerId: registered.workerId, pools: registered.pools }, 'registered');
  return registered.credential;
}

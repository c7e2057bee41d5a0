import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LongshoreError, type ExecutorKind } from '@longshore/protocol';
import { WORKER_VERSION } from './workerVersion.js';
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

/** Where a worker keeps what registration earned: a file beside it, or a Secret in its namespace. */
export interface CredentialStore {
  /** For messages: where the credential lives. */
  readonly location: string;
  load(): Promise<StoredCredential | undefined>;
  save(credential: StoredCredential): Promise<void>;
}

/** Checks what a store read; a damaged credential is an error that says how to recover, never a silent re-registration. */
export function parseStoredCredential(text: string, location: string): StoredCredential {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!Value.Check(StoredCredential, value)) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `${location} does not hold a valid worker credential; delete it and start the worker with a new registration token`,
    );
  }
  return value;
}

export function credentialPath(dataDir: string): string {
  return join(dataDir, 'credential.json');
}

/** credential.json in the data directory, readable by this user only. */
export class FileCredentialStore implements CredentialStore {
  readonly location: string;

  constructor(private readonly dataDir: string) {
    this.location = credentialPath(dataDir);
  }

  async load(): Promise<StoredCredential | undefined> {
    let text: string;
    try {
      text = await readFile(this.location, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new LongshoreError(
        'CONFIG_INVALID',
        `Cannot read the worker's credential at ${this.location}: ${(error as Error).message}`,
      );
    }
    return parseStoredCredential(text, this.location);
  }

  /** Written aside and renamed into place, so a crash never leaves half a file. */
  async save(credential: StoredCredential): Promise<void> {
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    const temporary = `${this.location}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(credential, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.location);
  }
}

export interface ObtainCredentialOptions {
  config: WorkerConfig;
  store: CredentialStore;
  metadata: Record<string, string>;
  channel: Pick<AgentChannel, 'register'>;
  executor: ExecutorKind;
  log: Logger;
  /** Ends the registration attempts (stop() during start()). */
  signal: AbortSignal;
  random?: () => number;
  onFailure?: (error: unknown) => void;
}

/**
 * The stored credential, or a new one from registering with the token (retried until
 * the server answers). Registration happens once per worker, not once per start.
 */
export async function obtainCredential(options: ObtainCredentialOptions): Promise<string> {
  const { config, log } = options;
  const stored = await options.store.load();
  if (stored && stored.serverUrl === config.serverUrl && stored.name === config.name) {
    log.info({ workerId: stored.workerId, pools: stored.pools }, 'using the stored credential');
    return stored.credential;
  }
  if (stored)
    log.warn(
      { for: { serverUrl: stored.serverUrl, name: stored.name } },
      'the stored credential is for another server or name; registering again',
    );
  const token = config.registrationToken;
  if (token === undefined) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `/registrationToken: needed to register, as ${options.store.location} holds no credential for this server and name`,
    );
  }
  const request = {
    token,
    name: config.name,
    executor: options.executor,
    version: WORKER_VERSION,
    capacity: config.maxConcurrentOperations,
    metadata: options.metadata,
  };
  const registered = await keepTrying((signal) => options.channel.register(request, signal), {
    what: 'registering with the server',
    signal: options.signal,
    log,
    rejectedRetryMs: config.rejectedRetryMs,
    random: options.random,
    onFailure: options.onFailure,
  });
  await options.store.save({ ...registered, serverUrl: config.serverUrl, name: config.name });
  log.info({ workerId: registered.workerId, pools: registered.pools }, 'registered');
  return registered.credential;
}

import { statSync } from 'node:fs';
import { LongshoreError } from '@longshore/protocol';
import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import type { Store, StoreLocation } from './database.js';
import { databaseAddress } from './databaseUrl.js';
import { storeFiles } from './sqliteStore.js';
import { storageError } from './storageErrors.js';

const WATCH_INTERVAL_MS = 2_000;

interface FileIdentity {
  dev: number;
  ino: number;
}

/**
 * Whether the store can be trusted with a write: a committed write of one row proves it, on either
 * database. Besides, SQLite keeps the database and its WAL open by
 * descriptor: when either is deleted or replaced under a running server, its writes still
 * "succeed" into a file nobody will read, and vanish at the next start. So the files' identities
 * are taken at start and compared every few seconds; once they differ the store is broken for
 * good (only a restart opens what is now on disk), the server goes unready and refuses writes.
 */
export class StoreHealth {
  #identities = new Map<string, FileIdentity>();
  #broken: string | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly location: StoreLocation,
    private readonly db: Store,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Takes the files' identities; fails, saying why, when the store does not take writes. */
  async start(): Promise<void> {
    await this.probeWrite();
    // A PostgreSQL store has no files here to watch: the database server keeps them.
    if (this.location.database === undefined)
      for (const path of storeFiles(this.location.dataDir)) this.#identities.set(path, identity(path));
    this.#timer = setInterval(() => this.watch(), WATCH_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Why the store must not be written, once it is broken. */
  get broken(): string | undefined {
    this.watch();
    return this.#broken;
  }

  /** Ready means the files are the ones opened and a write transaction can begin. */
  async check(): Promise<void> {
    const broken = this.broken;
    if (broken) throw new LongshoreError('STORE_UNAVAILABLE', broken);
    await this.probeWrite();
  }

  private watch(): void {
    if (this.#broken) return;
    for (const [path, opened] of this.#identities) {
      let now: FileIdentity | undefined;
      try {
        now = identity(path);
      } catch {
        now = undefined;
      }
      if (now?.dev === opened.dev && now.ino === opened.ino) continue;
      this.#broken = `${path} was ${now ? 'replaced' : 'deleted'} while the server had it open: writes from now on would be lost, so the server refuses them; restart it to open the store as it now is on disk (and restore from a backup if that is not what you meant)`;
      this.log.error({ path }, this.#broken);
      clearInterval(this.#timer);
      return;
    }
  }

  /**
   * A committed write of one row: a read-only file, directory or mount refuses it, and so does a
   * full disk once the WAL cannot grow; PostgreSQL refuses it when down, unreachable, read-only
   * (a standby) or full. (Readiness is asked every few seconds; this costs a page.)
   */
  private async probeWrite(): Promise<void> {
    try {
      await sql`INSERT INTO store_probe (id, checked_at) VALUES (1, ${Date.now()}) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`.execute(
        this.db,
      );
    } catch (error) {
      const typed = storageError(error);
      if (!typed) throw error;
      throw new LongshoreError(
        typed.code,
        `${this.#described()} does not take writes (${(error as Error).message}): ${this.#needs()}`,
        typed.details,
      );
    }
  }

  #described(): string {
    if (this.location.database === undefined) return `The store in ${this.location.dataDir}`;
    const { host, port, database } = databaseAddress(this.location.database);
    return `The PostgreSQL store at ${host}:${port}, database ${database},`;
  }

  #needs(): string {
    return this.location.database === undefined
      ? 'the server needs to write its data directory'
      : 'the server needs the database up, reachable and writable (a primary, not a standby, with free space)';
  }
}

function identity(path: string): FileIdentity {
  const { dev, ino } = statSync(path);
  return { dev, ino };
}

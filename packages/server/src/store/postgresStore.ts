import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { LongshoreError } from '@longshore/protocol';
import { databaseAddress, type DatabaseAddress } from './databaseUrl.js';
import { migrate } from './migrations.js';
import type { Database } from './schema.js';

/**
 * Connections per server node. Requests hold one only for a query or a transaction (a long-poll
 * waits without one), so a few serve hundreds of workers; PostgreSQL's own limit (100 by default)
 * is shared by every node.
 */
const POOL_SIZE = 10;
/** A database that does not answer within this is reported, rather than hanging a request or the start. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * BIGINT arrives from `pg` as a string, because it may pass 2^53. Ours are milliseconds since
 * 1970, byte counts, counters and row ids, all far below: they are numbers, as SQLite gives them.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PostgresStoreOptions {
  /** Errors of idle pooled connections (the database restarted, the network dropped one). */
  onIdleError?: (error: Error) => void;
}

/** Opens the pool, proves a connection and migrates; a database that cannot be used is a typed error. */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Kysely<Database>> {
  const address = databaseAddress(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types,
    application_name: 'longshore-server',
  });
  // Without a listener an idle connection's error would end the process; the pool drops that
  // connection and opens another for the next query.
  pool.on('error', (error) => options.onIdleError?.(error));
  // The pool listens only to idle connections. One in use whose database goes away reports it to
  // the query it runs, and then once more, as the socket closes, to a listener no one has: without
  // this one that second report would end the process. The query has the error already.
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end();
    throw unreachable(address, error);
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrate(db);
    return db;
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

function unreachable(address: DatabaseAddress, error: unknown): LongshoreError {
  const where = `${address.host}:${address.port}, database ${address.database}${address.user ? ` as user ${address.user}` : ''}`;
  const code = (error as { code?: unknown }).code;
  const check =
    code === '28P01' || code === '28000'
      ? 'check the user and password in the database URL, and that pg_hba.conf lets this machine in'
      : code === '3D000'
        ? 'create the database (createdb) or correct its name in the URL'
        : 'check that PostgreSQL runs there, listens on that address and port, and that no firewall is in between';
  return new LongshoreError(
    'STORE_UNAVAILABLE',
    `Cannot use the PostgreSQL store at ${where} (${(error as Error).message}): ${check}`,
    {
      host: address.host,
      port: address.port,
      database: address.database,
      ...(typeof code === 'string' && { cause: code }),
    },
  );
}

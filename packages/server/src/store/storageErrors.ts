import { LongshoreError } from '@longshore/protocol';

/** PostgreSQL's SQLSTATEs for a database that cannot take the write: gone, starting, read-only. */
const POSTGRES_UNAVAILABLE = /^(08|57P0[1-4]|25006|53300|XX)/;
/** The connection dropped under a query: node-postgres says so in words, with no code. */
const CONNECTION_LOST = /Connection terminated|connection timeout|timeout exceeded when trying to connect/i;

/**
 * What a failure of the disk or the database means to a client, or undefined when `error` is no
 * such failure. SQLite names the cause in its code (SQLITE_FULL, SQLITE_IOERR_WRITE, ...); the
 * file system and the network in errno codes; PostgreSQL in SQLSTATEs (53100 disk full, 08...
 * connection).
 */
export function storageError(error: unknown): LongshoreError | undefined {
  const cause = (error as Error | null)?.message ?? '';
  const code = (error as { code?: unknown } | null)?.code ?? (CONNECTION_LOST.test(cause) ? 'ECONNRESET' : undefined);
  if (typeof code !== 'string') return undefined;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || code === '53100') {
    return new LongshoreError(
      'STORAGE_FULL',
      `The server's disk is full (${cause}): nothing was written; free space in its data directory and retry`,
      { cause: code },
    );
  }
  if (
    /^SQLITE_(IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/.test(code) ||
    ['EROFS', 'EIO', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code) ||
    POSTGRES_UNAVAILABLE.test(code)
  ) {
    return new LongshoreError(
      'STORE_UNAVAILABLE',
      `The server cannot use its database (${cause}); the server log has the details`,
      { cause: code },
    );
  }
  return undefined;
}

/**
 * `text` with each NUL as U+FFFD (as a terminal shows an undecodable byte): what PostgreSQL's text
 * can keep of text that is not the user's to fix, a worker's report or an older server's row.
 */
export function nulReplaced(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/**
 * A value the store cannot hold, or undefined when `error` is no such refusal: PostgreSQL's text
 * takes no NUL character (SQLite's does), so a request carrying one is refused like any invalid input.
 */
export function unstorableValue(error: unknown): LongshoreError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== '22021' && code !== '22P05') return undefined;
  return new LongshoreError(
    'VALIDATION_FAILED',
    'The request holds a NUL character (\\u0000) or another character the store cannot keep: remove it and retry',
  );
}

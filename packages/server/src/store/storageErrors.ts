import { LongshoreError } from '@longshore/protocol';

/**
 * What a failure of the disk or the database file means to a client, or undefined when `error`
 * is no such failure. SQLite names the cause in its code (SQLITE_FULL, SQLITE_IOERR_WRITE, ...);
 * the file system in errno codes.
 */
export function storageError(error: unknown): LongshoreError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const cause = (error as Error).message;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') {
    return new LongshoreError(
      'STORAGE_FULL',
      `The server's disk is full (${cause}): nothing was written; free space in its data directory and retry`,
      { cause: code },
    );
  }
  if (/^SQLITE_(IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/.test(code) || code === 'EROFS' || code === 'EIO') {
    return new LongshoreError(
      'STORE_UNAVAILABLE',
      `The server cannot use its database (${cause}); the server log has the details`,
      { cause: code },
    );
  }
  return undefined;
}

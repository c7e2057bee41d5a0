import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { Database } from './schema.js';
import { migrate } from './migrations.js';
import { NAME_KEY_SQL_FUNCTION, nameKey } from '../resources/names.js';

export type Store = Kysely<Database>;

/**
 * WAL with synchronous=NORMAL: a crash may lose the last transactions of the OS buffer but never
 * corrupts the file, and commits stay cheap enough for log ingestion. Foreign keys are off by
 * default in SQLite; we want them.
 */
export async function openStore(dataDir: string): Promise<Store> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const sqlite = new SQLite(join(dataDir, 'longshore.db'));
  // Log chunks are rows of hundreds of KiB: larger pages mean fewer overflow pages per row.
  // (Only takes effect when the database file is created.)
  sqlite.pragma('page_size = 16384');
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Name indexes and look-ups call it, so the store compares names by the same rule as the API.
  sqlite.function(NAME_KEY_SQL_FUNCTION, { deterministic: true }, (name: unknown) => (typeof name === 'string' ? nameKey(name) : name));
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  await migrate(db);
  return db;
}

export function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY');
}

const STATEMENT_CACHE_SIZE = 512;

/**
 * Kysely prepares every query anew, and preparing costs more than running the small queries we
 * make (profiled: a third of a request's time). Statements are reusable, so keep the recent ones.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
} from 'kysely';
import { LongshoreError } from '@longshore/protocol';
import type { Database } from './schema.js';
import { migrate } from './migrations.js';
import { NAME_KEY_SQL_FUNCTION, nameKey } from '../resources/names.js';
import { storageError } from './storageErrors.js';

const DATABASE_FILE = 'longshore.db';

/** The files SQLite keeps open: the database and, in WAL mode, its log of recent commits. */
export function storeFiles(dataDir: string): string[] {
  const db = join(dataDir, DATABASE_FILE);
  return [db, `${db}-wal`];
}

/**
 * WAL with synchronous=NORMAL: a crash may lose the last transactions of the OS buffer but never
 * corrupts the file, and commits stay cheap enough for log ingestion. Foreign keys are off by
 * default in SQLite; we want them.
 */
export async function openSqliteStore(dataDir: string): Promise<Kysely<Database>> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, DATABASE_FILE);
  let sqlite: SQLite.Database | undefined;
  try {
    sqlite = new SQLite(path);
    // Log chunks are rows of hundreds of KiB: larger pages mean fewer overflow pages per row.
    // (Only takes effect when the database file is created.)
    sqlite.pragma('page_size = 16384');
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // Name indexes and look-ups call it, so the store compares names by the same rule as the API.
    sqlite.function(NAME_KEY_SQL_FUNCTION, { deterministic: true }, (name: unknown) =>
      typeof name === 'string' ? nameKey(name) : name,
    );
    const db = new Kysely<Database>({ dialect: new StoreDialect(sqlite) });
    await migrate(db);
    return db;
  } catch (error) {
    sqlite?.close();
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new LongshoreError(
        'STORE_UNAVAILABLE',
        `${path} is not a Longshore database or is damaged (${(error as Error).message}): restore it from a backup, or move it away to start with an empty store`,
        { path },
      );
    }
    const typed = storageError(error);
    if (typed)
      throw new LongshoreError(
        typed.code,
        `Cannot open the store ${path} (${(error as Error).message}): the server must be able to read and write ${dataDir} (is it read-only, full, or owned by another user?)`,
        { path },
      );
    throw error;
  }
}

/**
 * SQLite rolls a transaction back by itself when a write fails for a full disk or an I/O error;
 * Kysely then sends ROLLBACK anyway, whose "no transaction is active" replaced the real cause.
 * This driver rolls back only what is still open, so the cause is what reaches the caller.
 */
class StoreDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(private readonly sqlite: SQLite.Database) {
    const config = { database: withStatementCache(sqlite) };
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new StoreDriver(this.sqlite, this.#config);
  }
}

class StoreDriver extends SqliteDriver {
  constructor(
    private readonly sqlite: SQLite.Database,
    config: SqliteDialectConfig,
  ) {
    super(config);
  }

  /**
   * Immediate: the write lock is taken at the start, waiting out another process's writer for the
   * busy timeout. A deferred transaction that read first and then writes while another process
   * writes gets "database is locked" at once, because waiting could deadlock them both.
   */
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.sqlite.inTransaction) await super.rollbackTransaction(connection);
  }
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

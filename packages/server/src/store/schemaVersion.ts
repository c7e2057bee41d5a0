import { sql } from 'kysely';
import { NAME_KEY_SQL_FUNCTION } from '../resources/names.js';
import { POSTGRES_NOCASE_COLLATION } from './postgresMigrationSql.js';
import { dialectOf, type SqlRunner } from './sqlDialect.js';

/**
 * How many migrations a store has applied. Read in the transaction that applies the next one:
 * on PostgreSQL under an advisory lock, so that server nodes starting together migrate once (the
 * others wait, then find the work done).
 */
export interface SchemaVersion {
  /** Takes the migration lock (until the transaction ends) and answers the applied count. */
  lockAndRead(trx: SqlRunner): Promise<number>;
  write(trx: SqlRunner, version: number): Promise<void>;
}

export function schemaVersionOf(db: SqlRunner): SchemaVersion {
  return dialectOf(db) === 'postgres' ? postgresSchemaVersion : sqliteSchemaVersion;
}

/** SQLite runs one write transaction at a time; the count lives in the file's header. */
const sqliteSchemaVersion: SchemaVersion = {
  async lockAndRead(trx) {
    const row = await sql<{ user_version: number }>`PRAGMA user_version`.execute(trx);
    return row.rows[0]?.user_version ?? 0;
  },
  async write(trx, version) {
    await sql.raw(`PRAGMA user_version = ${version}`).execute(trx);
  },
};

const POSTGRES_MIGRATION_LOCK = sql`hashtext('longshore_schema')`;

/**
 * The count in a one-row table. Its first creation also makes what the SQLite store has built in
 * or registers per connection: the name rule as an SQL function (nameKey in names.ts: NFC, then
 * lower case by Unicode's default rules, which ICU's root locale applies as JavaScript does) and
 * a case-insensitive collation for SQLite's NOCASE columns.
 */
const postgresSchemaVersion: SchemaVersion = {
  async lockAndRead(trx) {
    await sql`SELECT pg_advisory_xact_lock(${POSTGRES_MIGRATION_LOCK})`.execute(trx);
    const table = await sql<{ name: string | null }>`SELECT to_regclass('longshore_schema')::text AS name`.execute(trx);
    if (table.rows[0]?.name) {
      const row = await sql<{ version: number }>`SELECT version FROM longshore_schema`.execute(trx);
      return Number(row.rows[0]?.version ?? 0);
    }
    for (const statement of [
      `CREATE TABLE longshore_schema (version BIGINT NOT NULL)`,
      `INSERT INTO longshore_schema (version) VALUES (0)`,
      `CREATE COLLATION ${POSTGRES_NOCASE_COLLATION} (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
      `CREATE FUNCTION ${NAME_KEY_SQL_FUNCTION}(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT lower(normalize($1, NFC) COLLATE "und-x-icu") $$`,
    ])
      await sql.raw(statement).execute(trx);
    return 0;
  },
  async write(trx, version) {
    await sql`UPDATE longshore_schema SET version = ${version}`.execute(trx);
  },
};

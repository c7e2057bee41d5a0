import { existsSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { sql, type Kysely, type Transaction } from 'kysely';
import { LongshoreError } from '@longshore/protocol';
import { databaseUrlProblem } from './databaseUrl.js';
import { openPostgresStore } from './postgresStore.js';
import type { Database } from './schema.js';
import { openSqliteStore, storeFiles } from './sqliteStore.js';
import { nulReplaced } from './storageErrors.js';
import { tablesInDependencyOrder } from './tableOrder.js';

/**
 * Tables any installation that ever ran has rows in (the first start makes user admin and its
 * key): a target with rows there holds Longshore data, which a copy must never mix with another's.
 * Rows the migrations themselves make (built-in roles, the default machine policy) are replaced.
 */
const DATA_TABLES = ['users', 'api_keys', 'projects', 'tasks', 'workers'];
/** Schema bookkeeping: each database keeps its own. */
const OWN_TABLES = new Set(['longshore_schema']);
/** PostgreSQL takes at most 65535 parameters in one statement. */
const MAX_PARAMETERS = 60_000;
const MAX_BATCH_ROWS = 1_000;
/** Log chunks are rows of hundreds of KiB: a batch is bounded in bytes too. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

export interface TableCopied {
  table: string;
  rows: number;
  /** Values that held a NUL character, which PostgreSQL's text cannot: copied with U+FFFD in its place. */
  nulReplaced: number;
}

export interface StoreCopyOptions {
  /** The SQLite installation's data directory (its longshore.db). */
  dataDir: string;
  /** The PostgreSQL database, postgres://... */
  database: string;
  /** Called once the source is found and the target reached, before anything is copied. */
  onStart?: () => void;
  /** Called once per table, after its rows are in (and counted). */
  onTable?: (copied: TableCopied) => void;
}

type Row = Record<string, unknown>;

/**
 * Copies an SQLite store into a PostgreSQL database, one way, in one transaction: either every
 * row of every table is there, with its id, and the counts match, or nothing is (a failed copy
 * leaves the target as it was, so it can simply be run again). Both schemas are brought to this
 * version's first. Sealed values are copied as they are: the target needs the same master key.
 */
export async function copySqliteToPostgres(options: StoreCopyOptions): Promise<TableCopied[]> {
  // Both ends are checked before the source's schema is brought up to date: a wrong --to changes nothing.
  const urlProblem = databaseUrlProblem(options.database);
  if (urlProblem) throw new LongshoreError('VALIDATION_FAILED', `--to ${urlProblem}`);
  const file = storeFiles(options.dataDir)[0]!;
  if (!existsSync(file))
    throw new LongshoreError(
      'VALIDATION_FAILED',
      `${file} does not exist: --from must be the data directory of an SQLite installation (where longshore.db is)`,
    );
  // The same schema upgrade a start of this version would make, so both sides have the same tables.
  await (await openSqliteStore(options.dataDir)).destroy();
  const source = new SQLite(file, { readonly: true, fileMustExist: true });
  let target: Kysely<Database> | undefined;
  try {
    target = await openPostgresStore(options.database);
    options.onStart?.();
    const db = target;
    return await db.transaction().execute(async (trx) => {
      const tables = await matchingTables(source, trx);
      await refuseData(trx);
      const order = tablesInDependencyOrder(source, tables);
      // The migrations' own rows (built-in roles...) come again from the source, with the source's ids.
      for (const table of [...order].reverse()) await sql`DELETE FROM ${sql.table(table)}`.execute(trx);
      const copied: TableCopied[] = [];
      for (const table of order) {
        const counts = await copyTable(source, trx, table, tables.get(table)!);
        await restartIdentity(trx, table);
        copied.push({ table, ...counts });
        options.onTable?.({ table, ...counts });
      }
      return copied;
    });
  } finally {
    source.close();
    await target?.destroy();
  }
}

/** Each table's columns, the same on both sides (both are at this version's schema). */
async function matchingTables(source: SQLite.Database, trx: Transaction<Database>): Promise<Map<string, string[]>> {
  const sourceTables = (
    source.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as {
      name: string;
    }[]
  )
    .map((t) => t.name)
    .filter((t) => !OWN_TABLES.has(t));
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`.execute(trx);
  const targetColumns = new Map<string, string[]>();
  for (const r of rows) targetColumns.set(r.table_name, [...(targetColumns.get(r.table_name) ?? []), r.column_name]);
  const tables = new Map<string, string[]>();
  for (const table of sourceTables) {
    const columns = (source.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map(
      (c) => c.name,
    );
    const theirs = targetColumns.get(table) ?? [];
    const missing = columns.filter((c) => !theirs.includes(c));
    if (missing.length > 0)
      throw new LongshoreError(
        'STORE_UNAVAILABLE',
        `The PostgreSQL database lacks ${table}.${missing.join(`, ${table}.`)} of the SQLite store, so a copy would lose them: is one of them from another Longshore version?`,
        { table, missing },
      );
    tables.set(table, columns);
  }
  return tables;
}

async function refuseData(trx: Transaction<Database>): Promise<void> {
  for (const table of DATA_TABLES) {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(trx);
    const n = rows[0]?.n ?? 0;
    if (n > 0)
      throw new LongshoreError(
        'CONFLICT',
        `The PostgreSQL database already holds a Longshore installation (${n} rows in ${table}): the copy goes only into a new, empty database, never over data; create one (createdb) and give its URL`,
        { table, rows: n },
      );
  }
}

async function copyTable(
  source: SQLite.Database,
  trx: Transaction<Database>,
  table: string,
  columns: string[],
): Promise<Omit<TableCopied, 'table'>> {
  const quoted = `"${table.replaceAll('"', '""')}"`;
  const expected = (source.prepare(`SELECT count(*) AS n FROM ${quoted}`).get() as { n: number }).n;
  const maxRows = Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(MAX_PARAMETERS / columns.length)));
  let batch: Row[] = [];
  let bytes = 0;
  let withNul = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const values = batch.map((row) => sql`(${sql.join(columns.map((c) => row[c]))})`);
    await sql`INSERT INTO ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))}) VALUES ${sql.join(values)}`.execute(
      trx,
    );
    batch = [];
    bytes = 0;
  };
  // In insertion order, so that a row referring to an earlier row of its own table finds it.
  for (const row of source.prepare(`SELECT * FROM ${quoted} ORDER BY rowid`).iterate() as Iterable<Row>) {
    batch.push(row);
    for (const c of columns) {
      const value = row[c];
      // An older server kept what SQLite takes; the server refuses or replaces a NUL now (nulCharacters.ts).
      if (typeof value === 'string' && value.includes('\u0000')) {
        row[c] = nulReplaced(value);
        withNul++;
      }
      bytes += sizeOf(row[c]);
    }
    if (batch.length >= maxRows || bytes >= MAX_BATCH_BYTES) await flush();
  }
  await flush();
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(trx);
  const copied = rows[0]?.n ?? 0;
  if (copied !== expected)
    throw new LongshoreError(
      'INTERNAL',
      `${table}: ${expected} rows in the SQLite store but ${copied} in PostgreSQL after the copy; nothing was committed`,
      { table, expected, copied },
    );
  return { rows: copied, nulReplaced: withNul };
}

function sizeOf(value: unknown): number {
  if (typeof value === 'string') return value.length * 2;
  if (Buffer.isBuffer(value)) return value.length;
  return 8;
}

/** Identity columns count on from past the copied ids, or the next insert would clash with one. */
async function restartIdentity(trx: Transaction<Database>, table: string): Promise<void> {
  const { rows } = await sql<{ column_name: string }>`
    SELECT column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table} AND is_identity = 'YES'`.execute(trx);
  for (const { column_name: column } of rows)
    await sql`SELECT setval(pg_get_serial_sequence(${table}, ${column}), max(${sql.ref(column)})) FROM ${sql.table(table)} HAVING max(${sql.ref(column)}) IS NOT NULL`.execute(
      trx,
    );
}

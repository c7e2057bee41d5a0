import { mkdirSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { openPostgresStore, type PostgresStoreOptions } from './postgresStore.js';
import { openSqliteStore } from './sqliteStore.js';

export type Store = Kysely<Database>;

/** Where the store is: PostgreSQL when `database` (a URL) is given, else SQLite in `dataDir`. */
export interface StoreLocation {
  dataDir: string;
  database?: string | undefined;
}

/** Opens the store and brings its schema up to date. */
export async function openStore(location: StoreLocation, options: PostgresStoreOptions = {}): Promise<Store> {
  // The master key, packages and the admin's first key live there whichever database holds the rest.
  mkdirSync(location.dataDir, { recursive: true, mode: 0o700 });
  return location.database === undefined
    ? openSqliteStore(location.dataDir)
    : openPostgresStore(location.database, options);
}

/** SQLite's codes for a unique or primary key clash, and PostgreSQL's unique_violation. */
const UNIQUE_VIOLATIONS = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']);

export function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && UNIQUE_VIOLATIONS.has((e as { code?: unknown }).code as string);
}

import { sql } from 'kysely';
import { postgresMigrationSql } from './postgresMigrationSql.js';
import { dialectOf, type SqlRunner } from './sqlDialect.js';

/** Runs one statement of a migration, written in SQLite's SQL, in the store's own dialect. */
export async function runMigrationSql(db: SqlRunner, statement: string): Promise<void> {
  const statements = dialectOf(db) === 'postgres' ? postgresMigrationSql(statement) : [statement];
  for (const s of statements) await sql.raw(s).execute(db);
}

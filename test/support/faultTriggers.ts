import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Faults injected into a test server's store with triggers, in the SQL of whichever store it runs
 * on: SQLite's triggers carry their body inline, PostgreSQL's call a function. Each answers a
 * function that removes what it made, for tests that go on with a healthy store.
 */

type AnyStore = Kysely<any>;
type Removal = () => Promise<void>;

export interface RefusedWrite {
  /** The trigger's name; with the server's own triggers in mind, make it say what it injects. */
  name: string;
  /** `INSERT`, `UPDATE`, `DELETE` or `UPDATE OF <column>`. */
  event: string;
  table: string;
  /** The error message the write fails with. */
  message: string;
}

/** Every such write to `table` fails with `message`, as a full disk or a broken file would fail it. */
export async function refuseWrites(db: AnyStore, fault: RefusedWrite): Promise<Removal> {
  const { name, event, table, message } = fault;
  if (!onPostgres(db)) {
    await sql
      .raw(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table} BEGIN SELECT RAISE(ABORT, ${literal(message)}); END`)
      .execute(db);
    return () => sql.raw(`DROP TRIGGER ${name}`).execute(db).then(ignore);
  }
  await sql
    .raw(
      `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION ${literal(message)}; END $$`,
    )
    .execute(db);
  await sql
    .raw(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`)
    .execute(db);
  return () => dropPostgresTrigger(db, name, table);
}

export interface OverwriteOnUpdate {
  name: string;
  table: string;
  /** The column whose update fires it. */
  watched: string;
  /** A condition on the row as updated, e.g. `NEW.state = 'finished'`. */
  when: string;
  /** The column overwritten in the same row, and its value (a text). */
  column: string;
  value: string;
}

/**
 * When `watched` is updated and `when` holds, `column` of the same row is set to `value`: the row
 * the server just wrote then holds what it never wrote, standing for a corruption no check foresees.
 * (The row has an `id` primary key.)
 */
export async function overwriteOnUpdate(db: AnyStore, fault: OverwriteOnUpdate): Promise<Removal> {
  const { name, table, watched, when, column, value } = fault;
  if (!onPostgres(db)) {
    await sql
      .raw(
        `CREATE TRIGGER ${name} AFTER UPDATE OF ${watched} ON ${table} WHEN ${when} BEGIN UPDATE ${table} SET ${column} = ${literal(value)} WHERE id = NEW.id; END`,
      )
      .execute(db);
    return () => sql.raw(`DROP TRIGGER ${name}`).execute(db).then(ignore);
  }
  // A BEFORE trigger changes the row being written: the same end state as SQLite's second update.
  await sql
    .raw(
      `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.${column} := ${literal(value)}; RETURN NEW; END $$`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE TRIGGER ${name} BEFORE UPDATE OF ${watched} ON ${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION ${name}()`,
    )
    .execute(db);
  return () => dropPostgresTrigger(db, name, table);
}

async function dropPostgresTrigger(db: AnyStore, name: string, table: string): Promise<void> {
  await sql.raw(`DROP TRIGGER ${name} ON ${table}`).execute(db);
  await sql.raw(`DROP FUNCTION ${name}()`).execute(db);
}

const onPostgres = (db: AnyStore) => db.getExecutor().adapter instanceof PostgresAdapter;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
const ignore = () => undefined;

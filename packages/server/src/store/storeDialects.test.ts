import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { freshPostgresDatabase } from '../../../../test/support/postgres.js';
import { NAME_KEY_SQL_FUNCTION, nameKey } from '../resources/names.js';
import { openStore, type Store } from './database.js';
import { migrate } from './migrations.js';
import type { Database } from './schema.js';

/** The same checks on both stores; PostgreSQL's only where its programs are installed (CI installs them). */
const POSTGRES_INSTALLED = existsSync('/usr/lib/postgresql');
const dialects = [
  { name: 'sqlite', database: async () => undefined },
  ...(POSTGRES_INSTALLED ? [{ name: 'postgres', database: freshPostgresDatabase }] : []),
];

/** Names whose lower case or normal form trips naive rules: each must get JavaScript's nameKey in SQL too. */
const TRICKY_NAMES = [
  'Stra\u00dfe',
  'STRASSE',
  '\u1e9e', // capital sharp s
  '\u0130stanbul', // dotted capital I: i + combining dot in JavaScript
  'I\u0131', // dotless i stays
  '\u039f\u0394\u039f\u03a3', // final sigma at word end
  '\u03a3\u0399\u03a3\u03a5\u03a6\u039f\u03a3 \u039a\u0391\u0399',
  'Cafe\u0301', // combining accent: NFC first
  'Caf\u00e9',
  '\u212b ngstr\u00f6m', // angstrom sign normalises to \u00c5
  '\u212a elvin', // kelvin sign normalises to K
  '\u01c4emal \u01c5', // digraphs with title case
  '\ufb01le', // ligature stays
  '\ud83d\ude80 Launch \ud83d\udc69\u200d\ud83d\udcbb',
  'Plain ascii-Name_1',
];

async function withStore(database: string | undefined, work: (db: Store) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'longshore-store-'));
  const db = await openStore({ dataDir: dir, database });
  try {
    await work(db);
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const dialect of dialects) {
  test(`${dialect.name}: a fresh store takes every migration, and its name rule, constraints and trigger hold`, async () => {
    await withStore(await dialect.database(), async (db) => {
      const t = Date.now();
      await db
        .insertInto('environments')
        .values({ id: 'env_1', name: 'Caf\u00e9', description: '', created_at: t })
        .execute();
      // The same name by the rule: decomposed accent, other case.
      await assert.rejects(
        db
          .insertInto('environments')
          .values({ id: 'env_2', name: 'CAFE\u0301', description: '', created_at: t })
          .execute(),
        (e: { code?: string }) => e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === '23505',
      );
      const found = await db
        .selectFrom('environments')
        .select('id')
        .where(sql.raw(`${NAME_KEY_SQL_FUNCTION}(name)`), '=', nameKey('cAF\u00c9'))
        .execute();
      assert.deepEqual(found, [{ id: 'env_1' }]);
      // Timestamps and counters pass 2^31 and come back as numbers, not strings.
      const back = await db.selectFrom('environments').select('created_at').executeTakeFirstOrThrow();
      assert.equal(back.created_at, t);
      await db
        .insertInto('audit_events')
        .values({ at: t, actor: 'a', via: 'api', address: '-', action: 'x', outcome: 'succeeded', status: 200 })
        .execute();
      await assert.rejects(db.updateTable('audit_events').set({ actor: 'b' }).execute(), /append-only/);
      assert.equal(await migrate(db), await migrate(db), 'migrating again changes nothing');
    });
  });

  test(`${dialect.name}: the name rule in SQL gives what nameKey gives, for tricky names`, async () => {
    await withStore(await dialect.database(), async (db) => {
      for (const name of TRICKY_NAMES) {
        const { rows } = await sql<{ key: string }>`SELECT ${sql.raw(NAME_KEY_SQL_FUNCTION)}(${name}) AS key`.execute(
          db,
        );
        assert.equal(rows[0]?.key, nameKey(name), `the key of ${JSON.stringify(name)}`);
      }
    });
  });

  test(`${dialect.name}: an old store migrates: names cleaned, references by name become ids`, async () => {
    const database = await dialect.database();
    const dir = mkdtempSync(join(tmpdir(), 'longshore-store-'));
    const old = new Kysely<Database>({
      dialect: database
        ? new PostgresDialect({ pool: new pg.Pool({ connectionString: database, max: 1 }) })
        : new SqliteDialect({ database: new SQLite(join(dir, 'longshore.db')) }),
    });
    await migrate(old, 2);
    const env = (id: string, name: string, at: number) => ({ id, name, description: '', created_at: at });
    await old
      .insertInto('environments')
      .values([env('env_1', 'Staging', 1), env('env_2', 'Cafe\u0301', 2), env('env_3', 'Prod\u0007', 3)])
      .execute();
    await old
      .insertInto('targets')
      .values({
        id: 'target_1',
        name: 'web-1',
        type: 'generic',
        environments: JSON.stringify(['staging', 'Caf\u00e9', 'Gone']),
        tags: '[]',
        properties: '{}',
        secret: null,
        created_at: 1,
      })
      .execute();
    await old.destroy();
    const db = await openStore({ dataDir: dir, database });
    try {
      const names = await db.selectFrom('environments').select(['id', 'name']).orderBy('id').execute();
      assert.deepEqual(
        names.map((n) => n.name),
        ['Staging', 'Caf\u00e9', 'Prod'],
      );
      const target = await db.selectFrom('targets').select('environments').executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(target.environments), ['env_1', 'env_2', 'Gone']);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

if (POSTGRES_INSTALLED)
  test('postgres: nodes starting together on an empty database migrate it once', async () => {
    const database = await freshPostgresDatabase();
    const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), 'longshore-store-')));
    const stores = await Promise.all(dirs.map((dataDir) => openStore({ dataDir, database })));
    try {
      const roles = await stores[0]!.selectFrom('roles').select('id').execute();
      assert.equal(roles.length, 5, 'the built-in roles, written once');
      const { rows } = await sql<{ version: number }>`SELECT version FROM longshore_schema`.execute(stores[1]!);
      assert.equal(rows[0]?.version, await migrate(stores[2]!));
    } finally {
      for (const s of stores) await s.destroy();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { migrate } from './migrations.js';
import { openStore } from './database.js';

const VERSION_BEFORE = 2;

/** A store as the release before this migration left it: names as typed, references by name. */
async function legacyStore(dir: string): Promise<void> {
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(join(dir, 'longshore.db')) }) });
  await migrate(db, VERSION_BEFORE);
  const env = (id: string, name: string, at: number) => ({ id, name, description: '', created_at: at });
  await db
    .insertInto('environments')
    .values([
      env('env_1', 'Staging', 1),
      env('env_2', 'Caf\u00e9', 2),
      env('env_3', 'Cafe\u0301', 3),
      env('env_4', 'bad\u0000name', 4),
      env('env_5', '\u0007', 5),
    ])
    .execute();
  await db
    .insertInto('worker_pools')
    .values([
      { id: 'pool_1', name: 'default', description: '', is_default: 1, created_at: 1 },
      { id: 'pool_2', name: 'Builders', description: '', is_default: 0, created_at: 2 },
    ])
    .execute();
  await db
    .insertInto('targets')
    .values({
      id: 'target_1',
      name: 'web-1',
      type: 'generic',
      environments: JSON.stringify(['staging', 'Cafe\u0301', 'Deleted']),
      tags: '["web"]',
      properties: '{}',
      secret: null,
      created_at: 1,
    })
    .execute();
  const process = {
    steps: [
      { name: 'a', script: { body: 'x' }, runOn: { pool: 'builders' } },
      { name: 'b', script: { body: 'x' } },
    ],
  };
  await db
    .insertInto('projects')
    .values({
      id: 'project_1',
      name: 'Shop',
      description: '',
      process: JSON.stringify(process),
      created_at: 1,
      updated_at: 1,
    })
    .execute();
  const scope = { environments: ['STAGING', 'Gone'], targets: ['web-1'], targetTags: ['Web'] };
  await db
    .insertInto('variables')
    .values({
      id: 'var_1',
      project_id: 'project_1',
      position: 0,
      name: 'V',
      value: 'x',
      sensitive: 0,
      scope: JSON.stringify(scope),
    })
    .execute();
  await db.destroy();
}

test('the migration cleans names, keeps them unique by the name rule, and turns references into ids', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'longshore-migration-'));
  try {
    await legacyStore(dir);
    const db = await openStore({ dataDir: dir });
    const names = await db.selectFrom('environments').select(['id', 'name']).orderBy('id').execute();
    assert.deepEqual(names, [
      { id: 'env_1', name: 'Staging' },
      { id: 'env_2', name: 'Caf\u00e9' },
      { id: 'env_3', name: 'Caf\u00e9 (env_3)' },
      { id: 'env_4', name: 'badname' },
      { id: 'env_5', name: 'env_5' },
    ]);
    const target = await db.selectFrom('targets').select('environments').executeTakeFirstOrThrow();
    assert.deepEqual(
      JSON.parse(target.environments),
      ['env_1', 'env_3', 'Deleted'],
      'references by exact name, then by the name rule; unknown ones kept',
    );
    const project = await db.selectFrom('projects').select('process').executeTakeFirstOrThrow();
    assert.deepEqual(
      JSON.parse(project.process).steps.map((s: { runOn?: unknown }) => s.runOn),
      [{ pool: 'pool_2' }, undefined],
    );
    const variable = await db.selectFrom('variables').select('scope').executeTakeFirstOrThrow();
    assert.deepEqual(
      JSON.parse(variable.scope),
      { environments: ['env_1', 'Gone'], targets: ['target_1'], targetTags: ['Web'] },
      'an unknown name still matches nothing',
    );
    await assert.rejects(
      db
        .insertInto('environments')
        .values({ id: 'env_6', name: 'cafe\u0301', description: '', created_at: 6 })
        .execute(),
      (e: { code?: string }) => e.code === 'SQLITE_CONSTRAINT_UNIQUE',
      'the store refuses a name another holds by the name rule',
    );
    await db.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

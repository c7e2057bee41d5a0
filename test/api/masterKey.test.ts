import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { postgresDatabaseFor, TEST_ON_POSTGRES } from '../support/postgres.js';
import { startHarness } from '../support/serverHarness.js';

// Server nodes on one database must seal with one master key. The database holds a check of it,
// and a node whose key does not match refuses to start before it writes anything.

const keyFile = (dir: string) => join(dir, 'master.key');

/** Every row of every table, read beside the server (from SQLite's file, or PostgreSQL's tables): what a refused start must leave as it was. */
async function dump(dir: string): Promise<Record<string, string[]>> {
  const tables: [string, unknown[]][] = [];
  if (TEST_ON_POSTGRES) {
    const client = new pg.Client({ connectionString: await postgresDatabaseFor(dir) });
    await client.connect();
    try {
      const names = await client.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
      );
      for (const { name } of names.rows) tables.push([name, (await client.query(`SELECT * FROM "${name}"`)).rows]);
    } finally {
      await client.end();
    }
  } else {
    const db = new SQLite(join(dir, 'longshore.db'), { readonly: true });
    try {
      const names = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as {
        name: string;
      }[];
      for (const { name } of names) tables.push([name, db.prepare(`SELECT * FROM "${name}"`).all()]);
    } finally {
      db.close();
    }
  }
  return Object.fromEntries(tables.map(([name, rows]) => [name, rows.map((row) => JSON.stringify(row)).sort()]));
}

async function removeKeyCheck(dir: string): Promise<void> {
  if (TEST_ON_POSTGRES) {
    const client = new pg.Client({ connectionString: await postgresDatabaseFor(dir) });
    await client.connect();
    await client.query('DELETE FROM master_key_check').finally(() => client.end());
    return;
  }
  const db = new SQLite(join(dir, 'longshore.db'));
  try {
    db.prepare('DELETE FROM master_key_check').run();
  } finally {
    db.close();
  }
}

/** A server that sealed something (a deployment's task), stopped; answers its data directory and task. */
async function installation(): Promise<{ dir: string; taskId: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'longshore-master-key-'));
  const h = await startHarness({}, dir);
  try {
    assert.equal((await h.api('POST', '/api/environments', { name: 'Test' })).status, 201);
    const project = { name: 'P', process: { steps: [{ name: 'Only', script: { body: 'echo hi' } }] } };
    assert.equal((await h.api('POST', '/api/projects', project)).status, 201);
    const deployed = await h.api('POST', '/api/deployments', { project: 'P', environment: 'Test' });
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
    return { dir, taskId: deployed.body.taskId as string };
  } finally {
    await h.close();
  }
}

/** Starts a node that must be refused; one that starts anyway is stopped, so the failure does not hang the run. */
async function assertRefused(config: { masterKey?: string }, dir: string): Promise<void> {
  let started: Awaited<ReturnType<typeof startHarness>> | undefined;
  await assert
    .rejects(
      startHarness(config, dir).then((h) => {
        started = h;
      }),
      refusedForKey(config.masterKey),
    )
    .finally(() => started?.close());
}

function refusedForKey(key?: string) {
  return (error: unknown) => {
    const e = error as { code?: string; message: string };
    assert.equal(e.code, 'MASTER_KEY_MISMATCH', String(error));
    assert.match(
      e.message,
      /master key \(from .+\) does not match the one the database was sealed with, so it refuses to start and writes nothing: give every server node the same key: set LONGSHORE_MASTER_KEY/,
    );
    assert.match(e.message, /master\.key into this node's data directory/);
    if (key) assert.ok(!e.message.includes(key), 'the key is not in the message');
    return true;
  };
}

test('a node with another master key refuses to start and changes nothing; with the same key it starts', async () => {
  const { dir, taskId } = await installation();
  try {
    const before = await dump(dir);
    assert.equal(before.master_key_check?.length, 1, 'the first start wrote the check');
    const other = randomBytes(32).toString('base64');
    await assertRefused({ masterKey: other }, dir);
    assert.deepEqual(await dump(dir), before);

    // The key file's content is what LONGSHORE_MASTER_KEY gives the other nodes.
    const shared = readFileSync(keyFile(dir), 'utf8').trim();
    const node = await startHarness({ masterKey: shared }, dir);
    try {
      const task = await node.api('GET', `/api/tasks/${taskId}`);
      assert.equal(task.status, 200, JSON.stringify(task.body));
    } finally {
      await node.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a node that lost its key file is refused, and leaves no new key behind', async () => {
  const { dir } = await installation();
  try {
    const before = await dump(dir);
    rmSync(keyFile(dir));
    await assertRefused({}, dir);
    assert.equal(existsSync(keyFile(dir)), false);
    assert.deepEqual(await dump(dir), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an installation from before the check gets it at its next start, once its key opens what it sealed', async () => {
  const { dir } = await installation();
  try {
    const check = (await dump(dir)).master_key_check;
    await removeKeyCheck(dir);
    const before = await dump(dir);
    await assertRefused({ masterKey: randomBytes(32).toString('base64') }, dir);
    assert.deepEqual(await dump(dir), before, 'a wrong key writes no check');

    const node = await startHarness({}, dir);
    await node.close();
    const written = (await dump(dir)).master_key_check;
    assert.equal(written?.length, 1);
    assert.equal(JSON.parse(written[0]!).digest, JSON.parse(check![0]!).digest, 'the check comes from the same key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

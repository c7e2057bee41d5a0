// The server's PostgreSQL store when the database misbehaves, tried as an operator meets it:
// `longshore server --database postgres://…` given a wrong password or an address where nothing
// listens, and a running server whose database kills its connection mid-request or stops and
// comes back. The database URL's password must never show, in the output or in an answer.
// (SQLite's faults, a read-only or full disk under its file, are in storeFaults.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { apiCall } from '../support/apiCall.js';
import { freePort, startCli, type CliProcess } from '../support/cliProcess.js';
import {
  TEST_DATABASE_PASSWORD,
  TEST_ON_POSTGRES,
  freshPostgresDatabase,
  restartPostgres,
  stopPostgres,
} from '../support/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'longshore-pgfaults-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The suites run once per store; these belong to the run on PostgreSQL (LONGSHORE_TEST_DATABASE=postgres).
const onPostgresOnly = TEST_ON_POSTGRES ? false : 'the PostgreSQL store: run with LONGSHORE_TEST_DATABASE=postgres';

/** A password no one else uses, so that finding it anywhere can only mean it leaked. */
const WRONG_PASSWORD = 'wrong-pa55word-never-shown';

function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.toString();
}

function startServer(data: string, database: string, env: Record<string, string> = {}): Promise<CliProcess> {
  return freePort().then((port) =>
    startCli(['server', '--port', String(port), '--data', data, '--insecure-http', '--database', database], env),
  );
}

function assertNoPassword(text: string, ...passwords: string[]): void {
  for (const password of passwords)
    assert.equal(text.includes(password), false, `the password ${password} was shown:\n${text.slice(-3000)}`);
}

interface Running {
  process: CliProcess;
  url: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

async function running(data: string, database: string): Promise<Running> {
  const process = await startServer(data, database);
  const [, url] = await process.waitForOutput(/listening on (http:\/\/\S+)/, 30_000);
  const key = readFileSync(join(data, 'admin-api-key'), 'utf8').trim();
  return {
    process,
    url: url!,
    call: (method, path, body) => apiCall(url!, key, method, path, body),
  };
}

describe('the PostgreSQL store under faults', { skip: onPostgresOnly }, () => {
  test('a wrong password stops the start with what to check, and the password is nowhere in the output', async () => {
    const url = withPassword(await freshPostgresDatabase(), WRONG_PASSWORD);
    const server = await startServer(join(dir, 'wrong-password'), url);
    assert.equal(await server.exited, 1, server.output());
    const { hostname, port, pathname } = new URL(url);
    assert.match(
      server.output(),
      new RegExp(
        `error \\[STORE_UNAVAILABLE\\]: Cannot use the PostgreSQL store at ${hostname}:${port}, database ${pathname.slice(1)} as user longshore \\(.*password authentication failed.*\\): check the user and password in the database URL`,
      ),
    );
    assert.doesNotMatch(server.output(), /\n\s+at /, 'no stack trace');
    assertNoPassword(server.output(), WRONG_PASSWORD);
  });

  test('an address where no PostgreSQL listens stops the start with the address and no password, from the environment too', async () => {
    const port = await freePort();
    const url = `postgres://longshore:${WRONG_PASSWORD}@127.0.0.1:${port}/longshore`;
    for (const [how, server] of [
      ['--database', await startServer(join(dir, 'unreachable'), url)],
      [
        'LONGSHORE_DATABASE_URL',
        startCli(
          ['server', '--port', String(await freePort()), '--data', join(dir, 'unreachable-env'), '--insecure-http'],
          {
            LONGSHORE_DATABASE_URL: url,
          },
        ),
      ],
    ] as const) {
      assert.equal(await server.exited, 1, `${how}: ${server.output()}`);
      assert.match(
        server.output(),
        new RegExp(
          `error \\[STORE_UNAVAILABLE\\]: Cannot use the PostgreSQL store at 127\\.0\\.0\\.1:${port}, database longshore as user longshore \\(.*ECONNREFUSED.*\\): check that PostgreSQL runs there`,
        ),
        how,
      );
      assertNoPassword(server.output(), WRONG_PASSWORD);
    }
  });

  test('a connection killed mid-request answers 503 with the cause, and the next request gets a new one', async () => {
    const database = await freshPostgresDatabase();
    const server = await running(join(dir, 'terminated'), database);
    const admin = new pg.Client({ connectionString: database });
    await admin.connect();
    try {
      assert.equal((await server.call('POST', '/api/environments', { name: 'Before' })).status, 201);
      // Hold the table, so the server's insert waits inside the database; then end its connections.
      await admin.query('BEGIN');
      await admin.query('LOCK TABLE environments IN ACCESS EXCLUSIVE MODE');
      const pending = server.call('POST', '/api/environments', { name: 'Cut' });
      const dbName = new URL(database).pathname.slice(1);
      for (let waiting = 0; waiting === 0;) {
        await new Promise((r) => setTimeout(r, 50));
        const seen = await admin.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'longshore-server' AND wait_event_type = 'Lock'",
          [dbName],
        );
        waiting = seen.rows[0].n;
      }
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'longshore-server'",
        [dbName],
      );
      const cut = await pending.catch((error: unknown) => {
        throw new Error(`the server did not answer: ${String(error)}\n${server.process.output().slice(-4000)}`);
      });
      await admin.query('ROLLBACK');
      assert.equal(cut.status, 503, JSON.stringify(cut.body));
      assert.equal(cut.body.code, 'STORE_UNAVAILABLE');
      // Which the server hears first, PostgreSQL's notice or the socket closing, is a race.
      assert.match(
        cut.body.message,
        /^The server cannot use its database \((terminating connection due to administrator command|Connection terminated unexpectedly)\); the server log has the details$/,
      );

      const retried = await server.call('POST', '/api/environments', { name: 'Cut' });
      assert.equal(retried.status, 201, JSON.stringify(retried.body));
      assert.deepEqual(
        (await server.call('GET', '/api/environments')).body.items.map((e: { name: string }) => e.name).sort(),
        ['Before', 'Cut'],
      );
      assertNoPassword(server.process.output() + JSON.stringify(cut.body), TEST_DATABASE_PASSWORD);
    } finally {
      await admin.end();
      await server.process.kill('SIGKILL');
    }
  });

  test('a database that stops answers 503 and unready, keeps the server up, and is used again once back', async () => {
    const server = await running(join(dir, 'stopped'), await freshPostgresDatabase());
    try {
      assert.equal((await server.call('POST', '/api/environments', { name: 'Before' })).status, 201);
      await stopPostgres();
      try {
        const refused = await server.call('POST', '/api/environments', { name: 'During' });
        assert.equal(refused.status, 503, JSON.stringify(refused.body));
        assert.equal(refused.body.code, 'STORE_UNAVAILABLE');
        assert.match(refused.body.message, /The server cannot use its database/);
        const read = await server.call('GET', '/api/environments');
        assert.equal(read.status, 503, JSON.stringify(read.body));
        const ready = await fetch(server.url + '/readyz');
        assert.equal(ready.status, 503);
        assert.match(
          await ready.text(),
          /The PostgreSQL store at 127\.0\.0\.1:\d+, database \w+, does not take writes/,
        );
        assert.equal(server.process.child.exitCode, null, 'the server is still up');
      } finally {
        await restartPostgres();
      }
      const after = await server.call('POST', '/api/environments', { name: 'After' });
      assert.equal(after.status, 201, JSON.stringify(after.body));
      assert.equal((await fetch(server.url + '/readyz')).status, 200);
      assert.deepEqual(
        (await server.call('GET', '/api/environments')).body.items.map((e: { name: string }) => e.name).sort(),
        ['After', 'Before'],
      );
      assertNoPassword(server.process.output(), TEST_DATABASE_PASSWORD);
    } finally {
      await server.process.kill('SIGKILL');
    }
  });
});

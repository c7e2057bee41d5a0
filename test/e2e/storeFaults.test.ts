// The server's store when its disk misbehaves, tried as an operator meets it: `longshore server`
// as a process on a data directory that is read-only, fills up, loses its database or has its
// WAL deleted under it. Read-only and full file systems are made in a private mount namespace
// (`unshare -m`, which needs root), reached from outside through /proc/<pid>/root.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { apiCall } from '../support/apiCall.js';
import { freePort, startCli, type CliProcess } from '../support/cliProcess.js';
import { TEST_ON_POSTGRES } from '../support/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'longshore-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const mountNamespaces = spawnSync('unshare', ['-m', 'true']).status === 0;
const needsMounts = mountNamespaces ? false : 'needs `unshare -m` (root) for a private read-only or full file system';

interface Server {
  process: CliProcess;
  url: string;
  /** The data directory as the server sees it (through its mount namespace, if it has one). */
  data: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

/** `longshore server` on `data`; `mountSetup` runs first in a private mount namespace. */
async function startServer(data: string, mountSetup?: string): Promise<Server> {
  const port = await freePort();
  const wrapper = mountSetup ? ['unshare', '-m', 'sh', '-ec', `${mountSetup}; exec "$0" "$@"`] : [];
  const process = startCli(
    ['server', '--port', String(port), '--data', data, '--insecure-http'],
    {},
    undefined,
    wrapper,
  );
  await process.waitForOutput(/Longshore server listening on/, 30_000);
  const seen = mountSetup ? `/proc/${process.child.pid}/root${data}` : data;
  const url = `http://127.0.0.1:${port}`;
  return {
    process,
    url,
    data: seen,
    call: (method, path, body) =>
      apiCall(url, readFileSync(join(seen, 'admin-api-key'), 'utf8').trim(), method, path, body),
  };
}

async function stopped(server: Server): Promise<void> {
  assert.equal(await server.process.kill('SIGTERM'), 0, server.process.output());
}

const readyz = async (s: Server) => (await fetch(s.url + '/readyz')).status;

// Each is a fault of SQLite's files in the data directory; the PostgreSQL store's faults (a wrong
// password, no database listening, a connection killed mid-request, the database stopping and
// coming back) are in postgresStoreFaults.test.ts, which the run on PostgreSQL runs instead.
const onSqliteOnly = TEST_ON_POSTGRES
  ? "SQLite's files: the run on PostgreSQL tests its faults in postgresStoreFaults.test.ts"
  : false;

describe('the store under faults', { skip: onSqliteOnly }, () => {
  test(
    'a read-only data directory stops the start with its cause, and nothing keeps listening',
    { skip: needsMounts },
    async () => {
      const data = join(dir, 'read-only');
      await stopped(await startServer(data));
      const port = await freePort();
      const server = startCli(['server', '--port', String(port), '--data', data, '--insecure-http'], {}, undefined, [
        'unshare',
        '-m',
        'sh',
        '-ec',
        `mount --bind ${data} ${data}; mount -o remount,bind,ro ${data}; exec "$0" "$@"`,
      ]);
      const code = await server.exited;
      assert.equal(code, 1, server.output());
      assert.match(
        server.output(),
        new RegExp(
          `error \\[STORE_UNAVAILABLE\\]: Cannot open the store ${data}/longshore\\.db \\(unable to open database file\\): the server must be able to read and write ${data}`,
        ),
      );
      assert.doesNotMatch(server.output(), /\n\s+at /, 'no stack trace');
      await assert.rejects(fetch(`http://127.0.0.1:${port}/livez`), 'nothing listens');
    },
  );

  test(
    'a full disk answers 507 naming the cause, logs it, is unready, and recovers once there is space',
    { skip: needsMounts },
    async () => {
      const data = join(dir, 'full');
      mkdirSync(data, { recursive: true });
      const server = await startServer(data, `mount -t tmpfs -o size=4m tmpfs ${data}`);
      try {
        // Fill what the store has left, leaving the server its open files.
        const filler = join(server.data, 'filler');
        const block = Buffer.alloc(64 * 1024, 1);
        try {
          for (;;) appendFileSync(filler, block);
        } catch (error) {
          assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
        }
        let refused: { status: number; body: any } | undefined;
        for (let i = 0; i < 200 && !refused; i++) {
          const r = await server.call('POST', '/api/environments', { name: `Full${i}`, description: 'x'.repeat(4000) });
          if (r.status !== 201) refused = r;
        }
        assert.ok(refused, 'a write was refused');
        assert.equal(refused.status, 507, JSON.stringify(refused.body));
        assert.equal(refused.body.code, 'STORAGE_FULL');
        assert.match(refused.body.message, /disk is full/);
        await server.process.waitForOutput(/"level":50.*database or disk is full/, 5_000);
        assert.doesNotMatch(server.process.output(), /cannot rollback/);
        assert.equal(await readyz(server), 507, 'not ready while no commit reaches the disk');

        unlinkSync(filler);
        const after = await server.call('POST', '/api/environments', { name: 'AfterSpace' });
        assert.equal(after.status, 201, JSON.stringify(after.body));
        assert.equal((await server.call('GET', '/api/environments/AfterSpace')).status, 200);
        assert.equal(await readyz(server), 200);
      } finally {
        await server.process.kill('SIGKILL');
      }
    },
  );

  test('the WAL deleted under a running server: it goes unready and refuses writes instead of losing them', async () => {
    const data = join(dir, 'wal');
    const server = await startServer(data);
    try {
      assert.equal((await server.call('POST', '/api/environments', { name: 'BeforeWal' })).status, 201);
      unlinkSync(join(data, 'longshore.db-wal'));
      const write = await server.call('POST', '/api/environments', { name: 'AfterWal' });
      assert.equal(write.status, 503, JSON.stringify(write.body));
      assert.equal(write.body.code, 'STORE_UNAVAILABLE');
      assert.match(write.body.message, /longshore\.db-wal was deleted while the server had it open/);
      assert.equal(await readyz(server), 503);
      assert.equal((await server.call('GET', '/api/environments/BeforeWal')).status, 200, 'reads still answer');
      await server.process.waitForOutput(/"level":50.*longshore\.db-wal was deleted/, 5_000);
    } finally {
      await server.process.kill('SIGKILL');
    }
  });

  test('a lost database with its key file kept: a new admin key is made and written, saying so; a stale key file is reported', async () => {
    const data = join(dir, 'lost');
    await stopped(await startServer(data));
    const oldKey = readFileSync(join(data, 'admin-api-key'), 'utf8');
    for (const f of ['longshore.db', 'longshore.db-wal', 'longshore.db-shm']) rmSync(join(data, f), { force: true });

    const server = await startServer(data);
    try {
      await server.process.waitForOutput(
        /the store has no API key \(was its database lost or replaced\?\): made a new admin API key/,
        5_000,
      );
      assert.notEqual(readFileSync(join(data, 'admin-api-key'), 'utf8'), oldKey);
      assert.equal((await server.call('GET', '/api/environments')).status, 200, 'the new key opens the API');
    } finally {
      await stopped(server);
    }

    writeFileSync(join(data, 'admin-api-key'), oldKey);
    const stale = await startServer(data);
    try {
      await stale.process.waitForOutput(/the admin API key file holds no valid key of this store/, 5_000);
    } finally {
      await stopped(stale);
    }
  });

  test('a file that is not a database stops the start with its path and what to do, no stack trace', async () => {
    const data = join(dir, 'corrupt');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'longshore.db'), 'this is not a database'.repeat(1000));
    const server = startCli(['server', '--port', String(await freePort()), '--data', data, '--insecure-http']);
    assert.equal(await server.exited, 1);
    assert.match(
      server.output(),
      new RegExp(
        `error \\[STORE_UNAVAILABLE\\]: ${join(data, 'longshore.db')} is not a Longshore database or is damaged \\(file is not a database\\): restore it from a backup`,
      ),
    );
    assert.doesNotMatch(server.output(), /\n\s+at /);
  });
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './cliProcess.js';

/**
 * A throw-away PostgreSQL for tests: one cluster per test process, started on first use in a
 * temporary directory (its socket there too, TCP on a free loopback port), without fsync, and
 * stopped when the process exits. Each server gets a database of its own. PostgreSQL refuses to
 * run as root, so under root the cluster runs as the `postgres` system user.
 */

/** Which store test servers use: `LONGSHORE_TEST_DATABASE=postgres` runs them on PostgreSQL. */
export const TEST_ON_POSTGRES = process.env.LONGSHORE_TEST_DATABASE === 'postgres';

const USER = 'longshore';
/** A password, so that the tests see it kept out of logs and messages as in production. */
const PASSWORD = 'test-password-s3cret';
const START_TIMEOUT_MS = 30_000;

interface Cluster {
  port: number;
  admin: pg.Pool;
  /** The cluster's directory (socket, password file) and its data directory, for a stop and a start. */
  dir: string;
  data: string;
}

let cluster: Promise<Cluster> | undefined;
const byDataDir = new Map<string, Promise<string>>();

/** Where PostgreSQL's programs are: Debian keeps them out of PATH, by major version. */
function binary(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', name)))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(
      `LONGSHORE_TEST_DATABASE=postgres needs PostgreSQL's ${name} in ${root}/<version>/bin: apt-get install postgresql`,
    );
  return join(root, versions[0]!, 'bin', name);
}

const asRoot = process.geteuid?.() === 0;
/** Runs a PostgreSQL program as the user that owns the cluster. */
const command = (args: string[]): [string, string[]] =>
  asRoot ? ['runuser', ['-u', 'postgres', '--', ...args]] : [args[0]!, args.slice(1)];

async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'longshore-pg-'));
  const data = join(dir, 'data');
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, PASSWORD);
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
    chownSync(passwordFile, uid, gid);
  }
  const init = command([
    binary('initdb'),
    '-D',
    data,
    '-U',
    USER,
    `--pwfile=${passwordFile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);
  const made = spawnSync(init[0], init[1], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`initdb failed: ${made.stderr || made.stdout}`);
  const port = await freePort();
  const server = startServer(dir, data, port);
  process.once('exit', () => {
    // Closing its stdin makes the watcher stop PostgreSQL and remove the directory.
    server.stdin?.end();
    const stop = command([binary('pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
    spawnSync(stop[0], stop[1], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  const admin = new pg.Pool({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
    max: 2,
    allowExitOnIdle: true,
  });
  admin.on('error', () => {
    // An idle admin connection dropped at the cluster's shutdown: nothing left to do with it.
  });
  await answering(admin, server, port);
  return { port, admin, dir, data };
}

/** Waits until the cluster answers a query, or fails saying why not. */
async function answering(admin: pg.Pool, server: ChildProcess, port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      await admin.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline || server.exitCode !== null)
        throw new Error(`PostgreSQL did not start on port ${port}: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * PostgreSQL in the background under a shell that stops it when our end of its stdin closes, so
 * that a test process killed outright leaves no cluster behind.
 */
function startServer(dir: string, data: string, port: number): ChildProcess {
  const script = `"$0" -D "$1" -p "$2" -k "$3" -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 >"$3/server.log" 2>&1 & pg=$!
read _ignored
kill -INT $pg 2>/dev/null; wait $pg; rm -rf "$3"`;
  const [file, args] = command(['sh', '-c', script, binary('postgres'), data, String(port), dir]);
  const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  return child;
}

/** A new, empty database of the test process's cluster, as the URL a server is given. */
export async function freshPostgresDatabase(): Promise<string> {
  cluster ??= startCluster();
  const { port, admin } = await cluster;
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
}

/**
 * What several server nodes of one test share: a fresh database and the master key (nodes on one
 * store must seal with the same key; each keeps its own data directory).
 */
export async function sharedClusterStore(): Promise<{ database: string; masterKey: string }> {
  return { database: await freshPostgresDatabase(), masterKey: randomBytes(32).toString('base64') };
}

/** The database of the server whose data directory is `dataDir`: a restart with the same directory finds its store. */
export function postgresDatabaseFor(dataDir: string): Promise<string> {
  let url = byDataDir.get(dataDir);
  if (!url) byDataDir.set(dataDir, (url = freshPostgresDatabase()));
  return url;
}

/** Drops a database made here once its server is done with it (the cluster goes at exit anyway). */
export async function dropPostgresDatabase(url: string): Promise<void> {
  const { admin } = await cluster!;
  await admin.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
}

/** The test servers' `database` setting: a database of their own on PostgreSQL, or none (SQLite). */
export async function testDatabaseFor(dataDir: string): Promise<{ database?: string }> {
  return TEST_ON_POSTGRES ? { database: await postgresDatabaseFor(dataDir) } : {};
}

/**
 * Stops the test process's cluster as a database restart does: its connections are ended and new
 * ones refused until restartPostgres. (Not `immediate`, a crash: without fsync and synchronous
 * commits, as the tests run it, a crash may lose the last commits, which no production setup would.)
 */
export async function stopPostgres(): Promise<void> {
  const { data } = await cluster!;
  const stop = command([binary('pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
  const stopped = spawnSync(stop[0], stop[1], { encoding: 'utf8' });
  if (stopped.status !== 0) throw new Error(`pg_ctl stop failed: ${stopped.stderr || stopped.stdout}`);
}

/** Starts the cluster stopped by stopPostgres again, on the same port, with its databases. */
export async function restartPostgres(): Promise<void> {
  const { dir, data, port, admin } = await cluster!;
  await answering(admin, startServer(dir, data, port), port);
}

/**
 * Everything the database at `url` holds, as text: every row of every table, text as it is and
 * bytes as they are, for tests that look for what must never be stored in the clear.
 */
export async function storedText(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    const parts: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await client.query(`SELECT * FROM "${name}"`);
      for (const row of rows.rows as Record<string, unknown>[])
        for (const value of Object.values(row))
          parts.push(Buffer.isBuffer(value) ? value.toString('latin1') : JSON.stringify(value));
    }
    return parts.join('\n');
  } finally {
    await client.end();
  }
}

/** The password every test database's URL carries, for tests that look for it where it must not be. */
export const TEST_DATABASE_PASSWORD = PASSWORD;

/** The same as `longshore server` flags, for tests that start the CLI's server themselves. */
export async function testDatabaseArgs(dataDir: string): Promise<string[]> {
  const { database } = await testDatabaseFor(dataDir);
  return database ? ['--database', database] : [];
}

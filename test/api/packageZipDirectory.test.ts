import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startCli, type CliProcess } from '../support/cliProcess.js';
import { testDatabaseArgs } from '../support/postgres.js';

// A zip's directory is read before any entry is inflated; its size is the archive's to choose, so
// the entry limit has to hold before the directory's records are read, not after. The server runs
// as its own process so that its memory is measured apart from the test's copy of the upload.

const dir = mkdtempSync(join(tmpdir(), 'longshore-zip-directory-'));
let server: CliProcess;
let url = '';
let apiKey = '';
before(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = startCli([
    'server',
    '--port',
    String(port),
    '--data',
    join(dir, 'server'),
    '--log-level',
    'warn',
    '--insecure-http',
    ...(await testDatabaseArgs(join(dir, 'server'))),
  ]);
  await server.waitForOutput(/listening on/);
  apiKey = readFileSync(join(dir, 'server', 'admin-api-key'), 'utf8').trim();
});
after(async () => {
  await server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;

/**
 * One empty stored file, then `count` directory records that all point at it (47 bytes each, so
 * 1.4 million fit in a 64 MiB push), counted by a zip64 end record as zip64 allows.
 */
function manyRecordsZip(count: number): Buffer {
  const name = Buffer.from('a');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(name.length, 26);
  const record = Buffer.alloc(46 + name.length);
  record.writeUInt32LE(0x02014b50, 0);
  record.writeUInt16LE(45, 4);
  record.writeUInt16LE(45, 6);
  record.writeUInt16LE(name.length, 28);
  name.copy(record, 46);
  const directory = Buffer.alloc(record.length * count);
  for (let i = 0; i < count; i++) record.copy(directory, i * record.length);
  const directoryOffset = local.length + name.length;
  const zip64End = Buffer.alloc(56);
  zip64End.writeUInt32LE(0x06064b50, 0);
  zip64End.writeBigUInt64LE(44n, 4);
  zip64End.writeUInt16LE(45, 12);
  zip64End.writeUInt16LE(45, 14);
  zip64End.writeBigUInt64LE(BigInt(count), 24);
  zip64End.writeBigUInt64LE(BigInt(count), 32);
  zip64End.writeBigUInt64LE(BigInt(directory.length), 40);
  zip64End.writeBigUInt64LE(BigInt(directoryOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(directoryOffset + directory.length), 8);
  locator.writeUInt32LE(1, 16);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([local, name, directory, zip64End, locator, end]);
}

/** The server's resident memory now and the most it has ever held (its high-water mark), in bytes. */
function serverMemory(): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

test('a zip whose directory lists more entries than the limit is refused before they are read', async () => {
  const zip = manyRecordsZip(1_400_000);
  assert.ok(zip.length < 64 * MiB, `${zip.length} bytes`);
  const before = serverMemory();
  const res = await fetch(`${url}/api/packages/many/1.0.0`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/octet-stream' },
    body: zip,
  });
  const text = await res.text();
  assert.equal(res.status, 422, text);
  assert.match(text, /The archive has 1400000 entries, more than the limit of 100000/);
  const grewMiB = (serverMemory().peak - before.peak) / MiB;
  assert.ok(
    grewMiB < 100,
    `the server's peak memory (VmHWM) rose by ${grewMiB.toFixed(0)} MiB from ${(before.rss / MiB).toFixed(0)} MiB at rest`,
  );
  const list = await fetch(`${url}/api/packages`, { headers: { authorization: `Bearer ${apiKey}` } });
  assert.deepEqual(((await list.json()) as { items: unknown[] }).items, []);
});

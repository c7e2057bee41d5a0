import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { CHUNK_BYTES } from '../support/packageStorageKinds.js';

// packageStorage database: package bytes in the store, in chunks of CHUNK_BYTES, read and written
// one chunk at a time, checked like files are.

let h: Harness;
before(async () => {
  h = await startHarness({ packageStorage: 'database' });
});
after(() => h.close());

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

const push = (id: string, version: string, body: Uint8Array) =>
  fetch(`${h.url}/api/packages/${id}/${version}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/octet-stream' },
    body,
  });

async function download(id: string, version: string): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(`${h.url}/api/packages/${id}/${version}/content`, {
    headers: { authorization: `Bearer ${h.apiKey}` },
  });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function chunksOf(content: Uint8Array) {
  const db = h.server.ctx.db;
  const stored = await db
    .selectFrom('package_contents')
    .selectAll()
    .where('sha256', '=', sha256(content))
    .executeTakeFirstOrThrow();
  const chunks = await db
    .selectFrom('package_chunks')
    .select(['seq', 'data'])
    .where('upload_id', '=', stored.upload_id)
    .orderBy('seq')
    .execute();
  return { stored, chunks };
}

/** Stored, not deflated: the archive is as large as its entry. */
const largeZip = (bytes: number) => zipSync({ 'data.bin': randomBytes(bytes) }, { level: 0 });

test('a package of several chunks is kept in chunks and comes back byte for byte', async () => {
  const content = largeZip(2.5 * CHUNK_BYTES);
  assert.equal((await push('big', '1.0.0', content)).status, 201);
  const { stored, chunks } = await chunksOf(content);
  assert.equal(stored.size, content.length);
  assert.equal(stored.chunk_count, 3);
  assert.deepEqual(
    chunks.map((c) => [c.seq, c.data.length]),
    [
      [0, CHUNK_BYTES],
      [1, CHUNK_BYTES],
      [2, content.length - 2 * CHUNK_BYTES],
    ],
  );
  const got = await download('big', '1.0.0');
  assert.equal(got.status, 200);
  assert.ok(got.bytes.equals(Buffer.from(content)), 'the same bytes');
});

test('a damaged or missing chunk is refused, never served', async () => {
  const content = largeZip(2.2 * CHUNK_BYTES);
  assert.equal((await push('chunky', '1.0.0', content)).status, 201);
  const { stored, chunks } = await chunksOf(content);
  const db = h.server.ctx.db;
  const middle = Buffer.from(chunks[1]!.data);
  middle[100]! ^= 0xff;
  await db
    .updateTable('package_chunks')
    .set({ data: middle })
    .where('upload_id', '=', stored.upload_id)
    .where('seq', '=', 1)
    .execute();
  const flipped = await download('chunky', '1.0.0');
  assert.equal(flipped.status, 500);
  assert.match(
    flipped.bytes.toString(),
    /stored content of package chunky 1\.0\.0 no longer matches what was pushed \(its sha256 is [0-9a-f]{64}; expected/,
  );

  await db.deleteFrom('package_chunks').where('upload_id', '=', stored.upload_id).where('seq', '=', 2).execute();
  const missing = await download('chunky', '1.0.0');
  assert.equal(missing.status, 500);
  assert.match(
    missing.bytes.toString(),
    /no longer matches what was pushed \(it cannot be read: chunk 3 of 3 is missing/,
  );
});

test('chunks of writes that never committed are removed when the server starts, recent ones kept', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'longshore-chunks-'));
  try {
    const first = await startHarness({ packageStorage: 'database' }, dataDir);
    const chunk = (upload_id: string, written_at: number) => ({ upload_id, seq: 0, written_at, data: randomBytes(16) });
    await first.server.ctx.db
      .insertInto('package_chunks')
      .values([chunk('crashed', Date.now() - 24 * 3600_000), chunk('streaming', Date.now())])
      .execute();
    const content = largeZip(1000);
    const pushed = await fetch(`${first.url}/api/packages/kept/1.0.0`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.apiKey}`, 'content-type': 'application/octet-stream' },
      body: content,
    });
    assert.equal(pushed.status, 201);
    // A committed package's chunks stay however old they are.
    await first.server.ctx.db
      .updateTable('package_chunks')
      .set({ written_at: 0 })
      .where('upload_id', 'not in', ['streaming'])
      .execute();
    await first.close();

    const restarted = await startHarness({ packageStorage: 'database' }, dataDir);
    try {
      const uploads = await restarted.server.ctx.db.selectFrom('package_chunks').select('upload_id').execute();
      assert.equal(uploads.length, 2);
      assert.ok(uploads.some((u) => u.upload_id === 'streaming'));
      assert.ok(!uploads.some((u) => u.upload_id === 'crashed'));
      const res = await fetch(`${restarted.url}/api/packages/kept/1.0.0/content`, {
        headers: { authorization: `Bearer ${restarted.apiKey}` },
      });
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(content));
    } finally {
      await restarted.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a package a directory storage recorded is refused with what to do, not served', async () => {
  const content = largeZip(100);
  assert.equal((await push('moved', '1.0.0', content)).status, 201);
  await h.server.ctx.db
    .updateTable('packages')
    .set({ path: `packages/sha256/${sha256(content).slice(0, 2)}/${sha256(content)}` })
    .where('package_id', '=', 'moved')
    .execute();
  const got = await download('moved', '1.0.0');
  assert.equal(got.status, 500);
  assert.match(
    got.bytes.toString(),
    /package moved 1\.0\.0 was stored with packageStorage directory, but this server keeps packages with packageStorage database: every server node must use the same package storage/,
  );
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { strToU8, zipSync } from 'fflate';
import { startHarness, type Harness } from '../support/serverHarness.js';

// How the feed keeps package files: by content, so no two package versions can write over each
// other's file, shared when the bytes are the same, and checked before every download.

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const auth = () => ({ authorization: `Bearer ${h.apiKey}` });

const push = (id: string, version: string, body: Uint8Array) =>
  fetch(`${h.url}/api/packages/${id}/${version}`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/octet-stream' },
    body,
  });

async function download(
  id: string,
  version: string,
): Promise<{ status: number; bytes: Buffer; length: string | null }> {
  const res = await fetch(`${h.url}/api/packages/${id}/${version}/content`, { headers: auth() });
  return { status: res.status, length: res.headers.get('content-length'), bytes: Buffer.from(await res.arrayBuffer()) };
}

/** The package files on disk, relative to the data directory. */
function blobs(): string[] {
  const dir = join(h.dataDir, 'packages');
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(h.dataDir.length + 1));
}

test('package ids and versions that once mapped to one file keep their own bytes', async () => {
  const first = zipSync({ 'first.txt': strToU8('the first package, somewhat longer') });
  const second = zipSync({ 'second.txt': strToU8('the second') });
  assert.equal((await push('coll', '1.2.3-x.4.5.6', first)).status, 201);
  assert.equal((await push('coll.1.2.3-x', '4.5.6', second)).status, 201);
  const a = await download('coll', '1.2.3-x.4.5.6');
  const b = await download('coll.1.2.3-x', '4.5.6');
  assert.equal(a.status, 200);
  assert.deepEqual(a.bytes, Buffer.from(first));
  assert.equal(a.length, String(first.length));
  assert.equal(b.status, 200);
  assert.deepEqual(b.bytes, Buffer.from(second));
});

test('two versions with the same content share one file, named by its sha256', async () => {
  const content = zipSync({ 'same.txt': strToU8('same bytes twice') });
  assert.equal((await push('twin-a', '1.0.0', content)).status, 201);
  assert.equal((await push('twin-b', '2.0.0', content)).status, 201);
  const hash = sha256(content);
  assert.equal(blobs().filter((path) => path.endsWith(hash)).length, 1);
  assert.ok(blobs().includes(join('packages', 'sha256', hash.slice(0, 2), hash)));
  assert.deepEqual((await download('twin-a', '1.0.0')).bytes, Buffer.from(content));
  assert.deepEqual((await download('twin-b', '2.0.0')).bytes, Buffer.from(content));
});

test('a refused push of the same bytes does not remove the file the accepted one uses', async () => {
  // Large enough that every request is still uploading when the others check for a clash.
  const content = zipSync({ 'data.bin': randomBytes(4 * 1024 * 1024) }, { level: 0 });
  const results = await Promise.all(
    Array.from({ length: 4 }, () =>
      push('racer', '1.0.0', content).then(async (r) => ({ status: r.status, text: await r.text() })),
    ),
  );
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 409, 409, 409], JSON.stringify(results));
  for (const r of results.filter((r) => r.status === 409)) assert.match(r.text, /immutable/);
  const got = await download('racer', '1.0.0');
  assert.equal(got.status, 200);
  assert.equal(sha256(got.bytes), sha256(content));
});

test('a file changed on disk is refused with the reason, never served', async () => {
  const content = zipSync({ 'kept.txt': strToU8('as pushed') });
  assert.equal((await push('damaged', '1.0.0', content)).status, 201);
  const hash = sha256(content);
  const file = join(h.dataDir, 'packages', 'sha256', hash.slice(0, 2), hash);
  const altered = Buffer.from(content);
  altered[altered.length - 30]! ^= 0xff;
  writeFileSync(file, altered);
  const changed = await download('damaged', '1.0.0');
  assert.equal(changed.status, 500);
  const body = JSON.parse(changed.bytes.toString());
  assert.equal(body.code, 'INTERNAL');
  assert.match(
    body.message,
    new RegExp(
      `stored file of package damaged 1\\.0\\.0 no longer matches what was pushed \\(its sha256 is [0-9a-f]{64}; expected ${content.length} bytes with sha256 ${hash}\\)`,
    ),
  );
  assert.match(body.message, /not served/);

  truncateSync(file, 10);
  const truncated = await download('damaged', '1.0.0');
  assert.equal(truncated.status, 500);
  assert.match(truncated.bytes.toString(), /no longer matches what was pushed \(it has 10 bytes/);
});

test('an upload cut off mid-body leaves no file behind', async () => {
  const before = blobs();
  await new Promise<void>((resolve) => {
    const req = request(`${h.url}/api/packages/cut/1.0.0`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/octet-stream', 'content-length': String(1024 * 1024) },
    });
    req.on('error', () => resolve());
    req.write(Buffer.alloc(64 * 1024));
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 200);
  });
  for (let i = 0; i < 50 && blobs().length !== before.length; i++) await sleep(20);
  assert.deepEqual(blobs(), before);
  assert.equal((await download('cut', '1.0.0')).status, 404);
  assert.ok(statSync(join(h.dataDir, 'packages', 'uploads')).isDirectory());
});

test('uploads a crash left behind are removed when the server starts, recent ones kept', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'longshore-uploads-'));
  const uploads = join(dataDir, 'packages', 'uploads');
  mkdirSync(uploads, { recursive: true });
  writeFileSync(join(uploads, '.upload-crashed'), 'half a package');
  const dayAgo = new Date(Date.now() - 24 * 3600_000);
  utimesSync(join(uploads, '.upload-crashed'), dayAgo, dayAgo);
  writeFileSync(join(uploads, '.upload-streaming'), 'still arriving');
  const restarted = await startHarness({}, dataDir);
  try {
    assert.deepEqual(readdirSync(uploads), ['.upload-streaming']);
  } finally {
    await restarted.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

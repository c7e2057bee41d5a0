import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { strToU8, zipSync } from 'fflate';
import { TEST_ON_POSTGRES } from '../support/postgres.js';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { packageStorageKinds } from '../support/packageStorageKinds.js';

// How the feed keeps package contents, in each package storage: by content, so no two package
// versions can write over each other's bytes, shared when the bytes are the same, and checked
// before every download.

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

for (const kind of packageStorageKinds) {
  describe(`with packageStorage ${kind.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind.config);
    });
    after(() => h.close());

    const auth = () => ({ authorization: `Bearer ${h.apiKey}` });
    const push = (id: string, version: string, body: Uint8Array, server = h) =>
      fetch(`${server.url}/api/packages/${id}/${version}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/octet-stream' },
        body,
      });
    async function download(id: string, version: string) {
      const res = await fetch(`${h.url}/api/packages/${id}/${version}/content`, { headers: auth() });
      return {
        status: res.status,
        length: res.headers.get('content-length'),
        bytes: Buffer.from(await res.arrayBuffer()),
      };
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

    test('two versions with the same content share one copy, named by its sha256', async () => {
      const content = zipSync({ 'same.txt': strToU8('same bytes twice') });
      assert.equal((await push('twin-a', '1.0.0', content)).status, 201);
      assert.equal((await push('twin-b', '2.0.0', content)).status, 201);
      const hash = sha256(content);
      assert.equal((await kind.stored(h)).filter((stored) => stored === hash).length, 1);
      if (kind.name === 'directory')
        assert.ok(existsSync(join(h.dataDir, 'packages', 'sha256', hash.slice(0, 2), hash)));
      assert.deepEqual((await download('twin-a', '1.0.0')).bytes, Buffer.from(content));
      assert.deepEqual((await download('twin-b', '2.0.0')).bytes, Buffer.from(content));
    });

    test('a refused push of the same bytes does not remove the copy the accepted one uses', async () => {
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
      assert.deepEqual(await kind.leftovers(h), []);
    });

    // Several nodes share a PostgreSQL store: two processes on one SQLite file wait for each other's
    // writes only up to the busy timeout, and under load a push is then refused with "database is locked".
    test(
      'two server nodes on one database and storage: a version pushed to both at once is taken once',
      {
        skip: TEST_ON_POSTGRES ? false : "several server nodes need the PostgreSQL store; SQLite is one node's",
      },
      async () => {
        const other = await startHarness(kind.config, h.dataDir);
        try {
          const content = zipSync({ 'data.bin': randomBytes(3 * 1024 * 1024) }, { level: 0 });
          const results = await Promise.all(
            [h, other, h, other].map((node) =>
              push('both', '1.0.0', content, node).then(async (r) => ({ status: r.status, text: await r.text() })),
            ),
          );
          assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409], JSON.stringify(results));
          for (const node of [h, other]) {
            const res = await fetch(`${node.url}/api/packages/both/1.0.0/content`, {
              headers: { authorization: `Bearer ${node.apiKey}` },
            });
            assert.equal(res.status, 200);
            assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(content));
          }
        } finally {
          await other.close();
        }
      },
    );

    test('a copy changed on the server is refused with the reason, never served', async () => {
      const content = zipSync({ 'kept.txt': strToU8('as pushed') });
      assert.equal((await push('damaged', '1.0.0', content)).status, 201);
      const hash = sha256(content);
      const altered = Buffer.from(content);
      altered[altered.length - 30]! ^= 0xff;
      await kind.overwrite(h, hash, altered);
      const changed = await download('damaged', '1.0.0');
      assert.equal(changed.status, 500);
      const body = JSON.parse(changed.bytes.toString());
      assert.equal(body.code, 'INTERNAL');
      assert.match(
        body.message,
        new RegExp(
          `stored (file|content) of package damaged 1\\.0\\.0 no longer matches what was pushed \\(its sha256 is [0-9a-f]{64}; expected ${content.length} bytes with sha256 ${hash}\\)`,
        ),
      );
      assert.match(body.message, /not served/);

      await kind.overwrite(h, hash, Buffer.from(content).subarray(0, 10));
      const truncated = await download('damaged', '1.0.0');
      assert.equal(truncated.status, 500);
      assert.match(truncated.bytes.toString(), /no longer matches what was pushed \(it has 10 bytes/);

      // The same bytes pushed again as a new version repair the copy, as the message says.
      assert.equal((await push('damaged', '1.0.1', content)).status, 201);
      assert.deepEqual((await download('damaged', '1.0.0')).bytes, Buffer.from(content));
    });

    test('an upload cut off mid-body leaves nothing behind', async () => {
      const before = await kind.stored(h);
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
      for (let i = 0; i < 50 && (await kind.leftovers(h)).length > 0; i++) await sleep(20);
      assert.deepEqual(await kind.leftovers(h), []);
      assert.deepEqual(await kind.stored(h), before);
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
      const restarted = await startHarness(kind.config, dataDir);
      try {
        assert.deepEqual(readdirSync(uploads), ['.upload-streaming']);
      } finally {
        await restarted.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}

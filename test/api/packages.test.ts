import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { zipSync } from 'fflate';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { packageStorageKinds } from '../support/packageStorageKinds.js';

for (const kind of packageStorageKinds) {
  describe(`with packageStorage ${kind.name}`, () => {
    let h: Harness;
    let tarGz: Buffer;
    before(async () => {
      h = await startHarness(kind.config);
      const dir = mkdtempSync(join(tmpdir(), 'pkg-'));
      writeFileSync(join(dir, 'app.txt'), 'hello package\n');
      execFileSync('tar', ['-czf', join(dir, 'app.tar.gz'), '-C', dir, 'app.txt']);
      tarGz = readFileSync(join(dir, 'app.tar.gz'));
    });
    after(() => h.close());

    const push = (id: string, version: string, body: Uint8Array, type = 'application/octet-stream') =>
      fetch(`${h.url}/api/packages/${id}/${version}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': type },
        body,
      });

    test('a .tar.gz and a .zip are stored, listed and downloaded intact', async () => {
      const first = await push('app', '1.0.0', tarGz);
      assert.equal(first.status, 201);
      const meta = (await first.json()) as any;
      assert.equal(meta.format, 'tar.gz');
      assert.equal(meta.sha256, createHash('sha256').update(tarGz).digest('hex'));
      const zip = zipSync({ 'a.txt': new TextEncoder().encode('zipped') });
      const second = await push('app', '1.1.0', zip);
      assert.equal(second.status, 201);
      assert.equal(((await second.json()) as any).format, 'zip');
      const list = (await h.api('GET', '/api/packages?packageId=app')).body.items.map((p: any) => p.version);
      assert.deepEqual(list.sort(), ['1.0.0', '1.1.0']);
      const download = await fetch(`${h.url}/api/packages/app/1.0.0/content`, {
        headers: { authorization: `Bearer ${h.apiKey}` },
      });
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), tarGz);
    });

    test('a release takes the newest package version unless one is pinned', async () => {
      await h.api('POST', '/api/projects', {
        name: 'Pkg',
        process: {
          steps: [
            {
              name: 'use',
              script: { body: 'ls' },
              packages: [{ packageId: 'app' }, { packageId: 'app', reference: 'old', version: '1.0.0' }],
            },
          ],
        },
      });
      const release = (await h.api('POST', '/api/projects/Pkg/releases', {})).body;
      assert.deepEqual(
        release.packages.map((p: any) => p.version),
        ['1.1.0', '1.0.0'],
      );
    });

    test('bad packages are refused and nothing is kept', async () => {
      const cases: [string, string, Uint8Array, number, RegExp, string?][] = [
        ['bad', 'one', tarGz, 400, /not a semantic version/],
        ['bad', '1.0.0', new TextEncoder().encode('just text'), 422, /neither a .tar.gz nor a .zip/],
        ['bad', '1.0.1', tarGz.subarray(0, tarGz.length - 40), 422, /corrupt/],
        ['bad', '1.0.2', zipSync({ 'a.txt': new Uint8Array(100) }).subarray(0, 60), 422, /corrupt/],
        ['app', '1.0.0', tarGz, 409, /immutable/],
        ['bad', '1.0.3', tarGz, 415, /Content-Type/, 'text/plain'],
      ];
      for (const [id, version, body, status, message, type] of cases) {
        const res = await push(id, version, body, type);
        const text = await res.text();
        assert.equal(res.status, status, `${id} ${version}: ${text}`);
        assert.match(text, message);
      }
      assert.deepEqual((await h.api('GET', '/api/packages?packageId=bad')).body.items, []);
      const accepted = ((await h.api('GET', '/api/packages?packageId=app')).body.items as any[]).find(
        (p) => p.version === '1.1.0',
      ).sha256;
      assert.deepEqual(
        (await kind.stored(h)).sort(),
        [createHash('sha256').update(tarGz).digest('hex'), accepted].sort(),
        'only the two accepted packages are stored',
      );
      assert.deepEqual(await kind.leftovers(h), []);
    });

    test('a package over the size limit is cut off with 413', async () => {
      const small = await startHarness({ ...kind.config, maxPackageBytes: 4096 });
      try {
        const res = await fetch(`${small.url}/api/packages/big/1.0.0`, {
          method: 'POST',
          headers: { authorization: `Bearer ${small.apiKey}`, 'content-type': 'application/octet-stream' },
          body: new Uint8Array(64 * 1024),
        });
        assert.equal(res.status, 413);
        assert.deepEqual((await small.api('GET', '/api/packages')).body.items, []);
        assert.deepEqual(await kind.leftovers(small), []);
      } finally {
        await small.close();
      }
    });
  });
}

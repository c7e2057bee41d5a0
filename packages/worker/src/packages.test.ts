import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isErrorCode, type OperationPackage } from '@longshore/protocol';
import { strToU8, zipSync } from 'fflate';
import { installPackage } from './packages.js';
import { rawTarGz, sha256, tarGz, zerosZip } from './testing/archives.fixture.js';
import { tempDir } from './testing/tempDirs.fixture.js';
import { FakeServer } from './testing/fakeServer.fixture.js';

const unix = (mode: number) => ({ os: 3, attrs: (mode << 16) >>> 0 });

function pkg(reference: string, format: OperationPackage['format'], content: Uint8Array): OperationPackage {
  return {
    reference,
    packageId: 'app',
    version: '1.0.0',
    format,
    sha256: sha256(content).toUpperCase(),
    downloadPath: `/packages/${reference}`,
  };
}

async function workDir(): Promise<string> {
  return tempDir('work');
}

describe('installPackage', () => {
  it('extracts a tar.gz into packages/<reference>, keeping file modes', async () => {
    const server = new FakeServer();
    const content = await tarGz({
      'bin/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
      'README.md': { content: 'hi' },
    });
    const p = pkg('app', 'tar.gz', content);
    server.packages.set(p.downloadPath, content);
    const dir = await workDir();
    await installPackage(p, dir, server, new AbortController().signal);
    assert.equal(await readFile(join(dir, 'packages/app/bin/run.sh'), 'utf8'), '#!/bin/sh\necho run\n');
    assert.equal((await stat(join(dir, 'packages/app/bin/run.sh'))).mode & 0o777, 0o755);
    assert.deepEqual(await readdir(join(dir, 'packages')), ['app']);
  });

  it('extracts a zip, directories included', async () => {
    const server = new FakeServer();
    const content = zipSync({ 'web/': {}, 'web/index.html': strToU8('<h1>hi</h1>'), 'config.json': strToU8('{}') });
    const p = pkg('site', 'zip', content);
    server.packages.set(p.downloadPath, content);
    const dir = await workDir();
    await installPackage(p, dir, server, new AbortController().signal);
    assert.equal(await readFile(join(dir, 'packages/site/web/index.html'), 'utf8'), '<h1>hi</h1>');
    assert.equal(await readFile(join(dir, 'packages/site/config.json'), 'utf8'), '{}');
  });

  it('refuses content that does not match its sha256, before extracting any of it', async () => {
    const server = new FakeServer();
    const content = zipSync({ 'a.txt': strToU8('a') });
    const p = { ...pkg('app', 'zip', content), sha256: sha256(strToU8('other')) };
    server.packages.set(p.downloadPath, content);
    const dir = await workDir();
    await assert.rejects(
      installPackage(p, dir, server, new AbortController().signal),
      (e) => isErrorCode(e, 'INVALID_PACKAGE') && /sha256/.test((e as Error).message),
    );
    assert.deepEqual(await readdir(join(dir, 'packages')), []);
  });

  it('keeps every entry inside its directory', async () => {
    const server = new FakeServer();
    const content = zipSync({ '../escaped.txt': strToU8('x') });
    const p = pkg('app', 'zip', content);
    server.packages.set(p.downloadPath, content);
    const dir = await workDir();
    await assert.rejects(
      installPackage(p, dir, server, new AbortController().signal),
      (e) => isErrorCode(e, 'INVALID_PACKAGE') && /entry '\.\.\/escaped\.txt' climbs out/.test((e as Error).message),
    );
    await assert.rejects(stat(join(dir, 'packages/escaped.txt')));
    assert.deepEqual(await readdir(join(dir, 'packages')), []);
    await assert.rejects(installPackage({ ...p, reference: '../up' }, dir, server, new AbortController().signal), (e) =>
      isErrorCode(e, 'INVALID_PACKAGE'),
    );
  });

  it('reports an archive that is not one', async () => {
    const server = new FakeServer();
    const content = strToU8('not a zip at all');
    const p = pkg('app', 'zip', content);
    server.packages.set(p.downloadPath, content);
    await assert.rejects(installPackage(p, await workDir(), server, new AbortController().signal), (e) =>
      isErrorCode(e, 'INVALID_PACKAGE'),
    );
  });

  it('refuses zip entries that are links, absolute or climb out, naming them, and leaves nothing behind', async () => {
    const cases: [Record<string, Uint8Array | [Uint8Array, { os: number; attrs: number }]>, RegExp][] = [
      [
        { 'ok.txt': strToU8('ok'), link: [strToU8('/etc'), unix(0o120777)] },
        /entry 'link' is a symbolic link; packages may hold only files and directories/,
      ],
      [{ '/etc/evil': strToU8('x') }, /entry '\/etc\/evil' has an absolute path/],
      [{ 'a\\..\\..\\evil.bat': strToU8('x') }, /entry 'a\\\.\.\\\.\.\\evil\.bat' climbs out/],
      [{ 'C:/evil.bat': strToU8('x') }, /entry 'C:\/evil\.bat' has an absolute path/],
      [{ fifo: [strToU8(''), unix(0o010644)] }, /entry 'fifo' is a FIFO/],
    ];
    for (const [files, message] of cases) {
      const server = new FakeServer();
      const content = zipSync(files);
      const p = pkg('app', 'zip', content);
      server.packages.set(p.downloadPath, content);
      const dir = await workDir();
      await assert.rejects(installPackage(p, dir, server, new AbortController().signal), (e) => {
        assert.ok(isErrorCode(e, 'INVALID_PACKAGE'), String(e));
        assert.match((e as Error).message, /^Package 'app' \(app 1\.0\.0\) cannot be installed: The archive's /);
        assert.match((e as Error).message, message);
        return true;
      });
      assert.deepEqual(await readdir(join(dir, 'packages')), []);
    }
  });

  it('extracts a hard link to a file of the same package', async () => {
    const server = new FakeServer();
    const content = rawTarGz([
      { path: 'lib/a.so', content: 'library' },
      { path: 'lib/a.so.1', type: 'Link', linkpath: 'lib/a.so' },
    ]);
    const p = pkg('app', 'tar.gz', content);
    server.packages.set(p.downloadPath, content);
    const dir = await workDir();
    await installPackage(p, dir, server, new AbortController().signal);
    assert.equal(await readFile(join(dir, 'packages/app/lib/a.so.1'), 'utf8'), 'library');
  });

  it('extracts a zip by streaming, keeping executables executable', async () => {
    const server = new FakeServer();
    const content = zipSync({
      'bin/run.sh': [strToU8('#!/bin/sh\n'), unix(0o100755)],
      'data.txt': [strToU8('d'), unix(0o100600)],
    });
    const p = pkg('app', 'zip', content);
    server.packages.set(p.downloadPath, content);
    const dir = await workDir();
    await installPackage(p, dir, server, new AbortController().signal);
    assert.equal((await stat(join(dir, 'packages/app/bin/run.sh'))).mode & 0o777, 0o755);
    assert.equal((await stat(join(dir, 'packages/app/data.txt'))).mode & 0o777, 0o644);
  });

  it('refuses a zip bomb by its limit without inflating it into memory', async () => {
    const server = new FakeServer();
    const content = await zerosZip('big.bin', 256 * 1024 * 1024);
    const p = pkg('app', 'zip', content);
    server.packages.set(p.downloadPath, content);
    const dir = await workDir();
    const before = process.memoryUsage().rss;
    await assert.rejects(installPackage(p, dir, server, new AbortController().signal), (e) => {
      assert.ok(isErrorCode(e, 'INVALID_PACKAGE'), String(e));
      assert.match(
        (e as Error).message,
        /expands to more than the 67108864-byte limit for an archive of \d+ bytes .*; entry 'big\.bin' goes past it/,
      );
      return true;
    });
    const grew = (process.memoryUsage().rss - before) / 1024 / 1024;
    assert.ok(grew < 100, `grew by ${grew.toFixed(0)} MiB`);
    assert.deepEqual(await readdir(join(dir, 'packages')), []);
  });

  it('refuses a zip whose directory understates an entry while inflating it', async () => {
    const server = new FakeServer();
    const content = await zerosZip('big.bin', 8 * 1024 * 1024, 100);
    const p = pkg('app', 'zip', content);
    server.packages.set(p.downloadPath, content);
    const dir = await workDir();
    await assert.rejects(
      installPackage(p, dir, server, new AbortController().signal),
      (e) =>
        isErrorCode(e, 'INVALID_PACKAGE') &&
        /entry 'big\.bin' expands past the 100 bytes its directory declares/.test((e as Error).message),
    );
    assert.deepEqual(await readdir(join(dir, 'packages')), []);
  });
});

import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isErrorCode, type OperationPackage } from '@longshore/protocol';
import { strToU8, zipSync } from 'fflate';
import { installPackage } from './packages.js';
import { sha256, tarGz } from './testing/archives.fixture.js';
import { tempDir } from './testing/tempDirs.fixture.js';
import { FakeServer } from './testing/fakeServer.fixture.js';


function pkg(reference: string, format: OperationPackage['format'], content: Uint8Array): OperationPackage {
  return { reference, packageId: 'app', version: '1.0.0', format, sha256: sha256(content).toUpperCase(), downloadPath: `/packages/${reference}` };
}

async function workDir(): Promise<string> {
  return tempDir('work');
}

describe('installPackage', () => {
  it('extracts a tar.gz into packages/<reference>, keeping file modes', async () => {
    const server = new FakeServer();
    const content = await tarGz({ 'bin/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 }, 'README.md': { content: 'hi' } });
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
    await assert.rejects(installPackage(p, dir, server, new AbortController().signal), (e) => isErrorCode(e, 'INVALID_PACKAGE') && /sha256/.test((e as Error).message));
    assert.deepEqual(await readdir(join(dir, 'packages/app')), []);
    assert.deepEqual(await readdir(join(dir, 'packages')), ['app']);
  });

  it('keeps every entry inside its directory', async () => {
    const server = new FakeServer();
    const content = zipSync({ '../escaped.txt': strToU8('x') });
    const p = pkg('app', 'zip', content);
    server.packages.set(p.downloadPath, content);
    const dir = await workDir();
    await assert.rejects(installPackage(p, dir, server, new AbortController().signal), (e) => isErrorCode(e, 'INVALID_PACKAGE') && /outside/.test((e as Error).message));
    await assert.rejects(stat(join(dir, 'packages/escaped.txt')));
    await assert.rejects(installPackage({ ...p, reference: '../up' }, dir, server, new AbortController().signal), (e) => isErrorCode(e, 'INVALID_PACKAGE'));
  });

  it('reports an archive that is not one', async () => {
    const server = new FakeServer();
    const content = strToU8('not a zip at all');
    const p = pkg('app', 'zip', content);
    server.packages.set(p.downloadPath, content);
    await assert.rejects(installPackage(p, await workDir(), server, new AbortController().signal), (e) => isErrorCode(e, 'INVALID_PACKAGE'));
  });
});

import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LogStream, Operation } from '@longshore/protocol';
import type { OperationSink } from './executors/executor.js';
import { LocalExecutor } from './executors/local/localExecutor.js';
import { rawTarGz, sha256 } from './testing/archives.fixture.js';
import { FakeServer } from './testing/fakeServer.fixture.js';
import { silentLog, testOperation } from './testing/operation.fixture.js';
import { tempDir } from './testing/tempDirs.fixture.js';

class Lines implements OperationSink {
  readonly texts: [LogStream, string][] = [];
  line(stream: LogStream, text: string): void {
    this.texts.push([stream, text]);
  }
  progress(): void {}
  scriptStarted(): void {}
  scriptPod(): void {}
  backpressure(): undefined {
    return undefined;
  }
}

// The archive of the audit: '../', absolute paths, symlinks and hard links together. The server
// refuses it on push now, but a worker must not trust that (an older server, a feed it does not
// run), so the worker applies the same rules before it extracts anything.
// Extracted as it came, the hard link over a full directory failed with "ENOTEMPTY: directory not
// empty" and nothing said what was wrong with the archive.
const HOSTILE = rawTarGz([
  { path: 'ok.txt', content: 'fine' },
  { path: 'd', type: 'Directory' },
  { path: 'd/f', content: 'in d' },
  { path: 'd', type: 'Link', linkpath: 'ok.txt' },
  { path: '../escape.txt', content: 'up' },
  { path: '/tmp/abs.txt', content: 'abs' },
  { path: 'link', type: 'SymbolicLink', linkpath: '/etc' },
  { path: 'link/passwd2', content: 'through the link' },
  { path: 'hard', type: 'Link', linkpath: '/etc/passwd' },
]);

describe('a worker given a hostile package', () => {
  it('fails the operation saying which entry is wrong and why, and removes the operation directory', async () => {
    const server = new FakeServer();
    server.packages.set('/p/hostile', HOSTILE);
    const temp = tempDir('hostile');
    const executor = new LocalExecutor({
      channel: server,
      workspace: { workerName: 'local-1', serverUrl: 'http://server.test' },
      tempDir: temp,
      dataDir: tempDir('hostile-data'),
      log: silentLog,
    });
    const packages: Operation['packages'] = [
      {
        reference: 'app',
        packageId: 'app',
        version: '1.0.0',
        format: 'tar.gz',
        sha256: sha256(HOSTILE),
        downloadPath: '/p/hostile',
      },
    ];
    const result = await executor.start(
      testOperation({ packages, script: { syntax: 'sh', body: 'echo ran' } }),
      new Lines(),
    );
    assert.equal(result.outcome, 'failed');
    assert.match(
      result.message,
      /^Package app could not be installed: Package 'app' \(app 1\.0\.0\) cannot be installed: The archive's entry 'd' would replace the directory 'd' the archive already has$/,
    );
    assert.deepEqual(await readdir(temp), [], 'the per-operation directory is gone');
    await assert.rejects(stat(join(temp, '..', 'escape.txt')));
  });
});

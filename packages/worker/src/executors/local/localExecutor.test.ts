import assert from 'node:assert/strict';
import { readdir, symlink } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { MASK, type LogStream, type Operation, type OperationResult } from '@longshore/protocol';
import { strToU8, zipSync } from 'fflate';
import type { LogLevel } from '../../bootstrapOutput.js';
import { sha256, tarGz } from '../../testing/archives.fixture.js';
import { FakeServer } from '../../testing/fakeServer.fixture.js';
import { silentLog, testOperation } from '../../testing/operation.fixture.js';
import { tempDir } from '../../testing/tempDirs.fixture.js';
import type { OperationSink } from '../executor.js';
import { LocalExecutor } from './localExecutor.js';
import { stillRunning } from '../../testing/processes.fixture.js';

class RecordingSink implements OperationSink {
  readonly lines: { stream: LogStream; text: string; source?: number; level?: LogLevel }[] = [];
  readonly progressed: [number, string][] = [];
  onLine: (text: string) => void = () => {};

  line(stream: LogStream, text: string, _ts: number, source?: number, level?: LogLevel): void {
    this.lines.push({ stream, text, source, level });
    this.onLine(text);
  }

  progress(percentage: number, message: string): void {
    this.progressed.push([percentage, message]);
  }

  scriptStartedAt: number | undefined;
  scriptPod(): void {}
  scriptStarted(ts: number): void {
    this.scriptStartedAt ??= ts;
  }

  backpressure(): undefined {
    return undefined;
  }

  texts(stream?: LogStream): string[] {
    return this.lines.filter((l) => stream === undefined || l.stream === stream).map((l) => l.text);
  }
}

function setup(): { executor: LocalExecutor; server: FakeServer; temp: string } {
  const server = new FakeServer();
  const temp = tempDir('executor');
  const executor = new LocalExecutor({
    channel: server,
    workspace: { workerName: 'local-1', serverUrl: 'http://server.test' },
    tempDir: temp,
    dataDir: tempDir('data'),
    log: silentLog,
  });
  return { executor, server, temp };
}

async function run(
  operation: Operation,
  sink = new RecordingSink(),
): Promise<{ result: OperationResult; sink: RecordingSink; temp: string }> {
  const { executor, temp } = setup();
  return { result: await executor.start(operation, sink), sink, temp };
}

describe('LocalExecutor', () => {
  it('runs the script and reports its lines, progress, output variables and success', async () => {
    const body = [
      'echo "hello from $(get_longshore_variable Longshore.Worker.Name)"',
      'echo "to stderr" >&2',
      'longshore_progress 50 "half way"',
      'set_longshore_variable Version 1.0',
      'set_longshore_variable Version 2.0',
      'set_longshore_variable Key k3y sensitive',
    ].join('\n');
    const { result, sink, temp } = await run(testOperation({ script: { syntax: 'sh', body } }));
    assert.deepEqual(result, {
      outcome: 'succeeded',
      exitCode: 0,
      message: 'The script succeeded',
      outputVariables: [
        { name: 'Version', value: '2.0', sensitive: false },
        { name: 'Key', value: 'k3y', sensitive: true },
      ],
    });
    // One numberer numbers the records of both streams as it reads them, service messages
    // included, skipping none. The streams race each other: the stderr line may come before,
    // between or after stdout's five records (the line, the progress, three variables), which
    // keep their order and take the other numbers.
    assert.deepEqual(sink.texts('stderr'), ['to stderr']);
    const stderrSource = sink.lines.find((l) => l.stream === 'stderr')!.source;
    const stdoutSources = [1, 2, 3, 4, 5, 6].filter((n) => n !== stderrSource);
    assert.equal(stdoutSources.length, 5, `the stderr line is numbered ${stderrSource}, not one of 1 to 6`);
    assert.deepEqual(
      sink.lines.filter((l) => l.stream !== 'stderr').map((l) => [l.stream, l.text, l.source]),
      [
        ['stdout', 'hello from local-1', stdoutSources[0]],
        // stdoutSources[1] is the progress message's: it is reported as progress, not as a line.
        ['system', "Output variable 'Version' set", stdoutSources[2]],
        ['system', "Output variable 'Version' set", stdoutSources[3]],
        ['system', "Output variable 'Key' set (sensitive)", stdoutSources[4]],
      ],
    );
    const sources = sink.lines.map((l) => l.source!);
    assert.deepEqual(
      sources,
      [...sources].sort((a, b) => a - b),
      'lines reach the sink in the order they are numbered',
    );
    assert.deepEqual(sink.progressed, [[50, 'half way']]);
    assert.ok(sink.scriptStartedAt !== undefined && sink.scriptStartedAt <= Date.now(), 'the script start is reported');
    assert.deepEqual(sink.texts('system'), [
      "Output variable 'Version' set",
      "Output variable 'Version' set",
      "Output variable 'Key' set (sensitive)",
    ]);
    assert.deepEqual(await readdir(temp), [], 'the working directory is removed');
  });

  it('reports a failing script with its exit code', async () => {
    const { result } = await run(
      testOperation({ script: { syntax: 'sh', body: 'echo partial\nset_longshore_variable Half yes\nexit 3' } }),
    );
    assert.deepEqual(result, {
      outcome: 'failed',
      exitCode: 3,
      message: 'The script exited with code 3',
      outputVariables: [{ name: 'Half', value: 'yes', sensitive: false }],
    });
  });

  it('masks sensitive values and passes the script none of the worker’s environment', async () => {
    process.env.LONGSHORE_TEST_WORKER_SECRET = 'worker-only';
    try {
      const operation = testOperation({
        variables: [{ name: 'Password', value: 'pa55word', sensitive: true }],
        script: {
          syntax: 'sh',
          body: 'echo "pw: $(get_longshore_variable Password)"\necho "env: ${LONGSHORE_TEST_WORKER_SECRET:-none}"',
        },
      });
      const { sink } = await run(operation);
      assert.deepEqual(sink.texts('stdout'), [`pw: ${MASK}`, 'env: none']);
    } finally {
      delete process.env.LONGSHORE_TEST_WORKER_SECRET;
    }
  });

  it('cancels: kills everything the script started and reports cancelled', async () => {
    const { executor } = setup();
    const sink = new RecordingSink();
    const operation = testOperation({ script: { syntax: 'sh', body: 'sleep 60 &\necho "child $!"\nsleep 60' } });
    let child = 0;
    sink.onLine = (text) => {
      const match = /^child (\d+)$/.exec(text);
      if (match) {
        child = Number(match[1]);
        executor.cancel(operation.id);
      }
    };
    const started = Date.now();
    const result = await executor.start(operation, sink);
    assert.equal(result.outcome, 'cancelled');
    assert.ok(Date.now() - started < 10_000);
    assert.ok(child > 0 && !(await stillRunning(child)), 'the background process is gone');
    assert.ok(sink.texts('system').includes('The operation was cancelled; stopping the script'));
  });

  it('times out', async () => {
    const { result, sink } = await run(
      testOperation({ timeoutSeconds: 1, script: { syntax: 'sh', body: 'echo start\nsleep 60' } }),
    );
    assert.equal(result.outcome, 'timed_out');
    assert.equal(result.message, 'The operation did not finish within its timeout of 1 seconds');
    assert.deepEqual(sink.texts(), ['start', 'The operation reached its timeout of 1 seconds; stopping the script']);
  });

  it('kills what the script left running in the background once it ends', async () => {
    const { result, sink } = await run(
      testOperation({ script: { syntax: 'sh', body: 'sleep 60 >/dev/null 2>&1 &\necho "child $!"' } }),
    );
    assert.equal(result.outcome, 'succeeded');
    const child = Number(/^child (\d+)$/.exec(sink.texts('stdout')[0]!)![1]);
    assert.equal(await stillRunning(child), false);
  });

  it('rejects what needs a container runtime before starting anything', async () => {
    const cases: [Partial<Operation>, RegExp][] = [
      [{ container: { image: 'node:20' } }, /execution container \(node:20\).*no container runtime.*Kubernetes worker/],
      [{ container: { dockerfile: 'FROM alpine' } }, /inline Dockerfile, which needs Docker/],
      [
        {
          packages: [
            {
              reference: 'img',
              packageId: 'img',
              version: '1',
              format: 'docker-image',
              sha256: '',
              downloadPath: '/x',
            },
          ],
        },
        /Package 'img' is a Docker image/,
      ],
    ];
    for (const [overrides, message] of cases) {
      const { result, sink, temp } = await run(
        testOperation({ ...overrides, script: { syntax: 'sh', body: 'touch /tmp/should-not-run' } }),
      );
      assert.equal(result.outcome, 'rejected');
      assert.match(result.message, message);
      assert.deepEqual(sink.lines, []);
      assert.deepEqual(await readdir(temp), []);
    }
  });

  it('installs packages where the script finds them, and fails on a bad one', async () => {
    const { executor, server } = setup();
    const tar = await tarGz({ 'hello.txt': { content: 'from tar' } });
    const zip = zipSync({ 'nested/hello.txt': strToU8('from zip') });
    server.packages.set('/p/tar', tar);
    server.packages.set('/p/zip', zip);
    const packages: Operation['packages'] = [
      {
        reference: 'app',
        packageId: 'app',
        version: '1.2.3',
        format: 'tar.gz',
        sha256: sha256(tar),
        downloadPath: '/p/tar',
      },
      {
        reference: 'web',
        packageId: 'web',
        version: '4.5.6',
        format: 'zip',
        sha256: sha256(zip),
        downloadPath: '/p/zip',
      },
    ];
    const sink = new RecordingSink();
    const body = 'cat packages/app/hello.txt; echo; cat packages/web/nested/hello.txt';
    const result = await executor.start(testOperation({ packages, script: { syntax: 'sh', body } }), sink);
    assert.equal(result.outcome, 'succeeded');
    assert.deepEqual(sink.texts(), [
      'Installing package app (app 1.2.3)',
      'Installing package web (web 4.5.6)',
      'from tar',
      'from zip',
    ]);

    const bad = await executor.start(
      testOperation({
        packages: [{ ...packages[0]!, sha256: sha256(zip) }],
        script: { syntax: 'sh', body: 'echo ran' },
      }),
      new RecordingSink(),
    );
    assert.equal(bad.outcome, 'failed');
    assert.match(bad.message, /^Package app could not be installed: .*does not match its sha256/);
  });

  it('reports a bootstrap that dies without its end marker as lost, and one that cannot run as failed', async () => {
    const { result } = await run(
      testOperation({ script: { syntax: 'sh', body: 'echo before\nkill -9 $PPID\nsleep 1' } }),
    );
    assert.equal(result.outcome, 'lost');
    assert.match(result.message, /killed \(SIGKILL\) before the script finished/);

    const onlySh = tempDir('only-sh');
    await symlink('/bin/sh', `${onlySh}/sh`);
    const path = process.env.PATH;
    process.env.PATH = onlySh;
    try {
      const { result: broken, sink } = await run(testOperation());
      assert.equal(broken.outcome, 'failed');
      assert.match(broken.message, /bootstrap exited with code 127 without an end-of-output marker/);
      assert.match(sink.texts('system')[0]!, /the bootstrap needs 'awk'/);
    } finally {
      process.env.PATH = path;
    }
  });
});

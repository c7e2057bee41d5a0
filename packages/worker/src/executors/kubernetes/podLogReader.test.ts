import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import type { LogStream } from '@longshore/protocol';
import { BootstrapOutput } from '../../bootstrapOutput.js';
import { FakeKubeApi } from './fakeKubeApi.fixture.js';
import { PodLogReader, parseTimestamp, type ContainerState } from './podLogReader.js';

const POD = 'longshore-op-1';

interface Seen {
  stream: LogStream;
  text: string;
  source: number | undefined;
}

describe('PodLogReader', () => {
  let api: FakeKubeApi;
  let seen: Seen[];
  let output: BootstrapOutput;
  let state: ContainerState;
  const diagnostics: string[] = [];

  beforeEach(async () => {
    api = new FakeKubeApi();
    await api.createPod({ metadata: { name: POD, labels: {} }, spec: { containers: [{ name: 'script' }] } });
    seen = [];
    state = 'running';
    output = new BootstrapOutput(
      {
        line: (stream, text, _ts, source) => seen.push({ stream, text, source }),
        progress: () => {},
        outputVariable: () => {},
        end: () => {},
      },
      { secrets: ['s3cret'] },
    );
  });

  function reader(signal = new AbortController().signal): PodLogReader {
    return new PodLogReader({
      api,
      podName: POD,
      container: 'script',
      output,
      signal,
      containerState: async () => state,
      diagnostic: (m) => diagnostics.push(m),
      backoff: { initialMs: 1, maxMs: 2 },
    });
  }

  const numbered = (from: number, to: number): string[] =>
    Array.from({ length: to - from + 1 }, (_, i) => `${from + i} O line ${from + i} é`);

  test('a timestamp that steps back within a stream loses no line', async () => {
    api.log(POD, numbered(1, 2), 10);
    api.advance(-15);
    api.log(POD, [...numbered(3, 4), '5 X 0'], 10);
    assert.equal(await reader().read(), 'marker');
    assert.deepEqual(
      seen.map((s) => s.text),
      ['line 1 é', 'line 2 é', 'line 3 é', 'line 4 é'],
    );
  });

  test('reads to the end marker, masking, with lines split across chunks', async () => {
    api.log(POD, [...numbered(1, 3), '4 E the password is s3cret', '5 X 0'], 10);
    const end = await reader().read();
    assert.equal(end, 'marker');
    assert.equal(output.exitCode, 0);
    assert.deepEqual(
      seen.map((s) => s.text),
      ['line 1 é', 'line 2 é', 'line 3 é', 'the password is ********'],
    );
    assert.deepEqual(
      seen.map((s) => s.source),
      [1, 2, 3, 4],
    );
  });

  test('a stream that breaks mid-line resumes with sinceTime and drops the repeated lines', async () => {
    // Lines 1-6 share one second, so the resumed stream (whole seconds) starts at line 1 again.
    api.log(POD, numbered(1, 6), 1);
    api.log(POD, ['7 X 0']);
    api.breakNextStream(POD, 40); // inside line 2
    api.breakNextStream(POD, 150); // after a few more
    const end = await reader().read();
    assert.equal(end, 'marker');
    assert.deepEqual(
      seen.map((s) => s.source),
      [1, 2, 3, 4, 5, 6],
    );
    assert.ok(!seen.some((s) => s.stream === 'system'), 'no gap was reported');
    assert.ok(
      api.calls.some((c) => c.includes('since 2030-01-01T00:00:00Z')),
      api.calls.join('\n'),
    );
    assert.ok(diagnostics.some((d) => d.includes('broke')));
  });

  test('unnumbered output (a shell error) is not repeated after a resume either', async () => {
    api.log(POD, ['sh: 1: oops: not found', ...numbered(1, 2)], 1);
    api.breakNextStream(POD, 70);
    api.log(POD, ['3 X 1']);
    await reader().read();
    assert.deepEqual(
      seen.map((s) => `${s.stream}:${s.text}`),
      ['system:sh: 1: oops: not found', 'stdout:line 1 é', 'stdout:line 2 é'],
    );
    assert.equal(output.exitCode, 1);
  });

  test('lines the kubelet lost are reported as a gap, never hidden', async () => {
    api.log(POD, [...numbered(1, 5), '6 X 0'], 1000);
    api.dropLogLines(POD, (t) => t.startsWith('3 ') || t.startsWith('4 '));
    await reader().read();
    assert.deepEqual(
      seen.map((s) => s.source ?? s.text),
      [1, 2, '2 lines are missing from the script output (lines 3–4)', 5],
    );
  });

  test('follows a running container as lines arrive', async () => {
    const reading = reader().read();
    for (let i = 1; i <= 3; i++) {
      await new Promise((r) => setTimeout(r, 5));
      api.log(POD, numbered(i, i), 300);
    }
    api.log(POD, ['4 X 0']);
    assert.equal(await reading, 'marker');
    assert.equal(seen.length, 3);
  });

  test('a container that terminated without the end marker ends the read', async () => {
    api.log(POD, numbered(1, 2));
    state = 'terminated';
    api.endLog(POD);
    assert.equal(await reader().read(), 'terminated');
    assert.equal(output.exitCode, undefined);
    assert.equal(seen.length, 2);
  });

  test('a vanished pod ends the read', async () => {
    api.log(POD, numbered(1, 1));
    const reading = reader().read();
    await new Promise((r) => setTimeout(r, 5));
    state = 'gone';
    api.removePod(POD);
    assert.equal(await reading, 'gone');
  });

  test('abort ends the read', async () => {
    const abort = new AbortController();
    const reading = reader(abort.signal).read();
    await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    assert.equal(await reading, 'aborted');
  });

  test("parseTimestamp takes the kubelet's RFC3339Nano", () => {
    assert.deepEqual(parseTimestamp('2030-01-01T00:00:01.5Z'), {
      ms: Date.parse('2030-01-01T00:00:01.500Z'),
      nanos: BigInt(Date.parse('2030-01-01T00:00:01Z')) * 1_000_000n + 500_000_000n,
    });
    assert.equal(parseTimestamp('yesterday'), undefined);
  });
});

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { LongshoreError, isErrorCode, type LogBatchRequest, type LogBatchResponse } from '@longshore/protocol';
import fc from 'fast-check';
import { LogShipper, type LogShipperOptions } from './logShipper.js';
import { FakeServer, type LogFault } from './testing/fakeServer.fixture.js';
import { silentLog } from './testing/operation.fixture.js';

const OP = 'op-1';

function shipper(server: Pick<FakeServer, 'sendLogs'>, options: Partial<LogShipperOptions> = {}): LogShipper {
  return new LogShipper({
    operationId: OP,
    channel: server,
    log: silentLog,
    backoff: { initialMs: 1, maxMs: 5 },
    ...options,
  });
}

function push(s: LogShipper, from: number, count: number): void {
  for (let i = from; i < from + count; i++)
    s.line(i % 3 === 0 ? 'stderr' : 'stdout', `line ${i}`, 1_700_000_000_000 + i, i);
}

function assertStored(server: FakeServer, count: number, firstSeq = 1): void {
  const log = server.logs.get(OP) ?? [];
  assert.equal(log.length, firstSeq - 1 + count);
  for (let i = firstSeq - 1; i < log.length; i++) {
    assert.equal(log[i]!.seq, i + 1);
    assert.equal(log[i]!.text, `line ${i - (firstSeq - 1)}`);
  }
}

describe('LogShipper', () => {
  it('numbers lines from 1 and ships them in batches, one request at a time', async () => {
    const server = new FakeServer();
    let inFlight = 0;
    let most = 0;
    const s = shipper({
      sendLogs: async (id, batch, signal) => {
        most = Math.max(most, ++inFlight);
        try {
          return await server.sendLogs(id, batch, signal);
        } finally {
          inFlight--;
        }
      },
    });
    push(s, 0, 12_000);
    assert.equal(await s.flush(), 12_000);
    assertStored(server, 12_000);
    assert.equal(most, 1);
    assert.ok(server.batches.every((b) => b.count <= 5000));
    assert.deepEqual(server.logs.get(OP)![4], {
      seq: 5,
      stream: 'stdout',
      ts: 1_700_000_000_004,
      text: 'line 4',
      source: 4,
    });
  });

  it('cuts batches by size too', async () => {
    const server = new FakeServer();
    const s = shipper(server, { maxBatchBytes: 10_000 });
    for (let i = 0; i < 50; i++) s.line('stdout', 'x'.repeat(1000), 0);
    await s.flush();
    assert.equal(server.logs.get(OP)!.length, 50);
    assert.ok(server.batches.every((b) => b.count <= 10));
  });

  it('sends a lone line within the flush interval', async () => {
    const server = new FakeServer();
    const s = shipper(server, { flushIntervalMs: 50 });
    s.line('stdout', 'line 0', 0);
    await sleep(200);
    assertStored(server, 1);
    assert.equal(s.ackedSeq, 1);
  });

  it('loses no line and stores none twice, whatever the network does', async () => {
    const faults = fc.constantFrom<LogFault>('unreachable', 'lostAck', 'half');
    await fc.assert(
      fc.asyncProperty(
        fc.array(faults, { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }),
        async (plan, rounds) => {
          const server = new FakeServer();
          server.logFaults = [...plan];
          const s = shipper(server, { maxBatchLines: 200, flushIntervalMs: 1 });
          let total = 0;
          for (const count of rounds) {
            push(s, total, count);
            total += count;
            await sleep(1);
          }
          assert.equal(await s.flush(), total);
          assertStored(server, total);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('resends from the seq a LOG_GAP asks for, out of the replay window', async () => {
    const server = new FakeServer();
    server.logFaults = ['forgetAfterAck'];
    const s = shipper(server, { maxBatchLines: 100 });
    push(s, 0, 100);
    await s.flush();
    push(s, 100, 100);
    await s.flush();
    assertStored(server, 200);
    assert.deepEqual(
      server.batches.map((b) => b.first),
      [1, 101, 51, 151],
    );
  });

  it('continues the numbering of a resumed operation', async () => {
    const server = new FakeServer();
    const s0 = shipper(server);
    push(s0, 0, 40);
    await s0.flush();
    const s = shipper(server, { ackedSeq: 40 });
    s.line('stdout', 'after restart', 0);
    assert.equal(await s.flush(), 41);
    assert.equal(server.logs.get(OP)![40]!.text, 'after restart');
  });

  it('fails for good when the server lost lines no longer held', async () => {
    const server = new FakeServer();
    const s0 = shipper(server);
    push(s0, 0, 5);
    await s0.flush();
    const s = shipper(server, { ackedSeq: 10 });
    push(s, 0, 3);
    await assert.rejects(
      s.flush(),
      (e) => isErrorCode(e, 'LOG_GAP') && /lost log lines 6–10/.test((e as Error).message),
    );
    assert.equal(s.backpressure(), undefined);
  });

  it('stops on a refusal, and after close()', async () => {
    const refusing = shipper({
      sendLogs: async () => {
        throw new LongshoreError('OPERATION_NOT_LEASED', 'not yours');
      },
    });
    push(refusing, 0, 3);
    await assert.rejects(refusing.flush(), (e) => isErrorCode(e, 'OPERATION_NOT_LEASED'));

    const server = new FakeServer();
    const s = shipper(server);
    push(s, 0, 3);
    s.close();
    await assert.rejects(s.flush(), (e) => isErrorCode(e, 'OPERATION_NOT_LEASED'));
    push(s, 3, 3);
    await sleep(150);
    assert.equal(server.batches.length, 0);
  });

  it('halves its batches when the server finds them too large', async () => {
    const server = new FakeServer();
    const sizes: number[] = [];
    const s = shipper(
      {
        sendLogs: async (id, batch, signal) => {
          sizes.push(batch.lines.length);
          if (batch.lines.length > 30) throw new LongshoreError('PAYLOAD_TOO_LARGE', 'too large');
          return server.sendLogs(id, batch, signal);
        },
      },
      { maxBatchBytes: 100 * 1080 },
    );
    for (let i = 0; i < 100; i++) s.line('stdout', 'x'.repeat(1000), 0);
    await s.flush();
    assert.equal(server.logs.get(OP)!.length, 100);
    assert.deepEqual(sizes.slice(0, 3), [100, 50, 25]);
  });

  it("carries the script's pod and start with the next batch, again after a failed send, and the start only once", async () => {
    const sent: LogBatchRequest[] = [];
    let failNext = true;
    const s = shipper({
      sendLogs: async (_id, batch) => {
        sent.push(batch);
        if (failNext) {
          failNext = false;
          throw new LongshoreError('SERVER_UNREACHABLE', 'the server restarts');
        }
        return { ackedSeq: batch.lines.at(-1)?.seq ?? 0, lastSource: 0, cancelRequested: false };
      },
    });
    s.scriptPod('longshore-script-a');
    s.scriptStarted(1_700_000_000_000);
    s.scriptStarted(1_700_000_009_999);
    await s.flush();
    assert.equal(sent.length, 2, 'sent again after the failure');
    for (const batch of sent) {
      assert.equal(batch.scriptPod, 'longshore-script-a');
      assert.equal(batch.scriptStartedAt, 1_700_000_000_000);
    }
    push(s, 0, 1);
    await s.flush();
    assert.equal(sent[2]!.scriptStartedAt, undefined, 'not repeated once stored');
  });

  it('reports a cancel request once, and sends progress even without lines', async () => {
    const server = new FakeServer();
    let cancels = 0;
    const s = shipper(server, { onCancelRequested: () => cancels++ });
    s.progress(10, 'starting');
    await s.flush();
    assert.deepEqual(server.progress.get(OP), { percentage: 10, message: 'starting' });
    assert.equal(server.batches[0]!.count, 0);
    server.cancelRequested.add(OP);
    push(s, 0, 2);
    await s.flush();
    push(s, 2, 2);
    await s.flush();
    assert.equal(cancels, 1);
    assert.equal(s.cancelRequested, true);
  });

  it('asks the producer to wait while too much is unacknowledged', async () => {
    const server = new FakeServer();
    const answers: (() => void)[] = [];
    const s = shipper(
      {
        sendLogs: (id: string, batch: LogBatchRequest, signal?: AbortSignal) =>
          new Promise<LogBatchResponse>((resolve, reject) =>
            answers.push(() => server.sendLogs(id, batch, signal).then(resolve, reject)),
          ),
      },
      { highWaterLines: 10, maxBatchLines: 5 },
    );
    push(s, 0, 8);
    assert.equal(s.backpressure(), undefined);
    push(s, 8, 8);
    const wait = s.backpressure();
    assert.ok(wait);
    let released = false;
    void wait.then(() => (released = true));
    const flushed = s.flush();
    while (!released) {
      await sleep(5);
      answers.shift()?.();
    }
    assert.ok(s.lastSeq - s.ackedSeq <= 5);
    while (s.ackedSeq < 16) {
      await sleep(5);
      answers.shift()?.();
    }
    assert.equal(await flushed, 16);
  });
});

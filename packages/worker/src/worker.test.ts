import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { LongshoreError, isErrorCode, type Operation, type OperationResult } from '@longshore/protocol';
import { pino, type Logger } from 'pino';
import { credentialPath } from './credential.js';
import type { Executor, OperationSink, ResumePoint } from './executors/executor.js';
import { FakeServer } from './testing/fakeServer.fixture.js';
import { testOperation } from './testing/operation.fixture.js';
import { tempDir } from './testing/tempDirs.fixture.js';
import { Worker } from './worker.js';
import { parseWorkerConfig, type WorkerConfig } from './workerConfig.js';

/** Runs operations only when told to. */
class FakeExecutor implements Executor {
  readonly kind = 'local' as const;
  readonly started: string[] = [];
  readonly cancelled: string[] = [];
  private readonly runs = new Map<string, { sink: OperationSink; resolve: (result: OperationResult) => void }>();

  readonly resumed: { id: string; resume: ResumePoint }[] = [];
  readonly discarded: string[] = [];
  leftoverIds: string[] = [];

  start(operation: Operation, sink: OperationSink, resume?: ResumePoint): Promise<OperationResult> {
    this.started.push(operation.id);
    if (resume) this.resumed.push({ id: operation.id, resume });
    return new Promise((resolve) => this.runs.set(operation.id, { sink, resolve }));
  }

  async leftovers(): Promise<string[]> {
    return this.leftoverIds;
  }

  async discard(operationId: string): Promise<void> {
    this.discarded.push(operationId);
  }

  readonly released: string[] = [];
  /** Holds releases back, as removing a script pod and its Secret takes a while. */
  releaseGate: Promise<void> = Promise.resolve();
  async release(operationId: string): Promise<void> {
    await this.releaseGate;
    this.released.push(operationId);
  }

  readonly left: string[] = [];
  leave(operationId: string): boolean {
    if (!this.runs.has(operationId)) return false;
    this.left.push(operationId);
    this.finish(operationId, { outcome: 'lost', message: 'no longer followed', outputVariables: [] });
    return true;
  }

  cancel(operationId: string): void {
    this.cancelled.push(operationId);
    this.finish(operationId, { outcome: 'cancelled', message: 'cancelled', outputVariables: [] });
  }

  /** Writes lines as the script would, then ends the run. */
  finish(operationId: string, result: OperationResult, lines = 0): void {
    const run = this.runs.get(operationId);
    if (!run) return;
    this.runs.delete(operationId);
    for (let i = 1; i <= lines; i++) run.sink.line('stdout', `line ${i}`, Date.now(), i);
    run.resolve(result);
  }
}

function logCapture(): { log: Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    { write: (line: string) => entries.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, entries };
}

function config(overrides: Partial<WorkerConfig> = {}): WorkerConfig {
  return parseWorkerConfig({
    serverUrl: 'http://server.test',
    registrationToken: 'token-1',
    name: 'worker-1',
    dataDir: tempDir('data'),
    maxConcurrentOperations: 2,
    pollWaitMs: 100,
    drainDeadlineMs: 2000,
    rejectedRetryMs: 100,
    ...overrides,
  });
}

function setup(overrides: Partial<WorkerConfig> = {}) {
  const server = new FakeServer();
  const executor = new FakeExecutor();
  const { log, entries } = logCapture();
  const worker = new Worker(config(overrides), { channel: server, executor, log, random: () => 0 });
  return { server, executor, worker, entries };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const success: OperationResult = {
  outcome: 'succeeded',
  exitCode: 0,
  message: 'ok',
  outputVariables: [{ name: 'V', value: '1', sensitive: false }],
};

describe('Worker', () => {
  it('registers once, stores the credential privately, polls, and stops', async () => {
    const { server, worker, entries } = setup();
    assert.equal(worker.state, 'created');
    await worker.start();
    assert.equal(worker.state, 'running');
    assert.deepEqual(server.registrations, [
      { token: 'token-1', name: 'worker-1', executor: 'local', version: '0.1.0', capacity: 2, metadata: {} },
    ]);
    assert.deepEqual(
      server.infos,
      [{ version: '0.1.0', capacity: 2, metadata: {} }],
      'and tells the server what it is at every start',
    );
    assert.equal((await stat(credentialPath(worker.config.dataDir))).mode & 0o777, 0o600);
    await until(() => server.polls.length > 0, 'a poll');
    assert.deepEqual(server.polls[0], { free: 2, running: [], waitMs: 100 });
    assert.equal(server.credentials[0], 'cred-1');
    await worker.stop();
    assert.equal(worker.state, 'stopped');
    await worker.done;
    const transitions = entries
      .filter((e) => typeof e.to === 'string')
      .map((e) => `${e.from as string}->${e.to as string}`);
    assert.deepEqual(transitions, ['created->starting', 'starting->running', 'running->draining', 'draining->stopped']);
    assert.ok(!JSON.stringify(entries).includes('token-1'), 'the registration token is never logged');
  });

  it('reuses the stored credential after a restart, with no token needed', async () => {
    const first = setup();
    await first.worker.start();
    await first.worker.stop();
    const server = new FakeServer();
    const again = new Worker(
      { ...first.worker.config, registrationToken: undefined },
      { channel: server, executor: new FakeExecutor(), log: pino({ level: 'silent' }) },
    );
    await again.start();
    await until(() => server.polls.length > 0, 'a poll');
    assert.deepEqual(server.registrations, []);
    assert.equal(server.credentials[0], 'cred-1');
    await again.stop();
  });

  it('fails to start without a credential or a token', async () => {
    const { worker } = setup({ registrationToken: undefined });
    await assert.rejects(
      worker.start(),
      (e) => isErrorCode(e, 'CONFIG_INVALID') && /registrationToken/.test((e as Error).message),
    );
    assert.equal(worker.state, 'failed');
    await assert.rejects(worker.done);
  });

  it('refuses illegal transitions with ILLEGAL_STATE', async () => {
    const { worker } = setup();
    await worker.start();
    await assert.rejects(worker.start(), (e) => isErrorCode(e, 'ILLEGAL_STATE'));
    const stopping = worker.stop();
    assert.equal(worker.stop(), stopping);
    await stopping;
    await assert.rejects(worker.start(), (e) => isErrorCode(e, 'ILLEGAL_STATE'));
    const unstarted = setup().worker;
    await unstarted.stop();
    assert.equal(unstarted.state, 'stopped');
  });

  it('takes operations up to its capacity, once each, and reports them after their log is stored', async () => {
    const { server, executor, worker } = setup();
    await worker.start();
    const [a, b, c] = [testOperation(), testOperation(), testOperation()];
    server.offer({ operation: a });
    server.offer({ operation: b });
    server.offer({ operation: c });
    await until(() => executor.started.length === 2, 'two starts');
    server.offer({ operation: a }); // Redelivered: must not start twice.
    await until(() => server.polls.some((p) => p.free === 0 && p.running.length === 2), 'a full poll');
    assert.deepEqual(executor.started, [a.id, b.id]);

    executor.finish(a.id, success, 2500);
    await until(() => server.completed.has(a.id), 'a completion');
    assert.deepEqual(server.completed.get(a.id), { ...success, finalSeq: 2500 });
    assert.equal(server.logs.get(a.id)!.length, 2500);
    await until(() => executor.started.includes(c.id), 'the third start');
    assert.equal(executor.started.filter((id) => id === a.id).length, 1);
    executor.finish(b.id, success);
    executor.finish(c.id, success);
    await worker.stop();
  });

  it('polls again at once when a slot frees up, rather than after the long wait', async () => {
    const { server, executor, worker } = setup({ maxConcurrentOperations: 1, pollWaitMs: 10_000 });
    await worker.start();
    const op = testOperation();
    server.offer({ operation: op });
    await until(() => server.polls.some((p) => p.free === 0), 'a full poll');
    const finishedAt = Date.now();
    executor.finish(op.id, success);
    await until(() => server.polls.some((p, i) => i > 0 && p.free === 1), 'a poll with room', 2000);
    assert.ok(Date.now() - finishedAt < 2000);
    await worker.stop();
  });

  it('cancels what the server cancels and drops what it forgets', async () => {
    const { server, executor, worker } = setup();
    await worker.start();
    const [a, b] = [testOperation(), testOperation()];
    server.offer({ operation: a });
    server.offer({ operation: b });
    await until(() => executor.started.length === 2, 'two starts');
    server.offer({ cancel: a.id });
    await until(() => server.completed.has(a.id), 'the cancelled report');
    assert.equal(server.completed.get(a.id)!.outcome, 'cancelled');
    server.offer({ forget: b.id });
    await until(() => executor.cancelled.includes(b.id), 'the forget');
    await until(() => worker.operations.length === 0, 'the forgotten operation to end');
    assert.equal(server.completed.has(b.id), false);
    await worker.stop();
  });

  it(
    'a forget that crosses the report of an operation that ended stops nothing, and the report goes on',
    { timeout: 20_000 },
    async () => {
      const { server, executor, worker, entries } = setup();
      await worker.start();
      const op = testOperation();
      server.offer({ operation: op });
      await until(() => executor.started.length === 1, 'the start');
      let answer!: () => void;
      server.completeAnswerGate = new Promise((resolve) => (answer = resolve));
      executor.finish(op.id, success, 0);
      await until(() => server.completed.has(op.id), 'the server to take the report');
      const polled = server.polls.length;
      server.offer({ forget: op.id });
      await until(() => server.polls.length >= polled + 2, 'the poll that carried the forget, and the next');
      assert.deepEqual(
        entries.filter((e) => /no longer expects/.test(String(e.msg))),
        [],
      );
      assert.ok(!executor.cancelled.includes(op.id));
      answer();
      await until(() => worker.operations.length === 0, 'the report to be answered');
      await worker.stop();
    },
  );

  it('reconnects after network failures and says once that the server refuses it', async () => {
    const { server, worker, entries } = setup();
    server.failures.poll.push(
      new LongshoreError('SERVER_UNREACHABLE', 'down'),
      new LongshoreError('SERVER_UNREACHABLE', 'down'),
      new LongshoreError('UNAUTHENTICATED', 'credential rejected'),
      new LongshoreError('UNAUTHENTICATED', 'credential rejected'),
      new LongshoreError('UNAUTHENTICATED', 'credential rejected'),
    );
    await worker.start();
    await until(() => server.polls.length >= 7, 'polls after the failures', 8000);
    assert.equal(worker.state, 'running');
    const refusals = entries.filter((e) => typeof e.msg === 'string' && e.msg.includes('failed (UNAUTHENTICATED)'));
    assert.equal(refusals.length, 1);
    assert.equal(entries.filter((e) => e.msg === 'polling the server failed; retrying').length, 1);
    assert.ok(entries.some((e) => e.msg === 'polling the server: working again'));
    await worker.stop();
  });

  it('retries a completion until the server acknowledges it', async () => {
    const { server, executor, worker } = setup();
    server.failures.complete.push(new LongshoreError('TIMEOUT', 'slow'));
    await worker.start();
    const op = testOperation();
    server.offer({ operation: op });
    await until(() => executor.started.length === 1, 'a start');
    executor.finish(op.id, success, 3);
    await until(() => server.completed.has(op.id), 'the completion', 5000);
    assert.equal(server.completed.get(op.id)!.finalSeq, 3);
    await worker.stop();
  });

  it('drains: lets running operations finish, takes nothing new', async () => {
    const { server, executor, worker } = setup();
    await worker.start();
    const op = testOperation();
    server.offer({ operation: op });
    await until(() => executor.started.length === 1, 'a start');
    const pollsBefore = server.polls.length;
    const stopped = worker.stop();
    assert.equal(worker.state, 'draining');
    server.offer({ operation: testOperation() });
    await sleep(150);
    executor.finish(op.id, success, 5);
    await stopped;
    assert.equal(worker.state, 'stopped');
    assert.deepEqual(executor.started, [op.id]);
    assert.equal(server.completed.get(op.id)!.outcome, 'succeeded');
    // Leases are still renewed while draining, with no room offered.
    const draining = server.polls.slice(pollsBefore + 1);
    assert.ok(draining.length > 0 && draining.every((p) => p.free === 0 && p.running[0] === op.id));
  });

  it('leaves its own upgrade running when it stops: not waited for, not cancelled, not reported, still listed as running', async () => {
    const { server, executor, worker } = setup({ drainDeadlineMs: 300 });
    await worker.start();
    const upgrade = testOperation({ purpose: 'worker-upgrade' });
    const step = testOperation();
    server.offer({ operation: upgrade });
    server.offer({ operation: step });
    await until(() => executor.started.length === 2, 'both started');
    const pollsBefore = server.polls.length;
    const stopped = worker.stop();
    // A loaded machine may take a while to poll: wait for a poll of the draining worker, not a fixed time.
    await until(() => server.polls.length > pollsBefore + 1, 'a poll while draining');
    executor.finish(step.id, success, 2);
    await stopped;
    assert.deepEqual(executor.left, [upgrade.id]);
    assert.deepEqual(executor.cancelled, [], 'the drain deadline cancelled nothing');
    assert.equal(server.completed.get(step.id)!.outcome, 'succeeded');
    assert.equal(server.completed.has(upgrade.id), false, 'its successor reports it');
    assert.deepEqual(executor.released, [step.id], 'the upgrade pod stays');
    // The server keeps the upgrade while the old worker drains: every poll still names it.
    const draining = server.polls.slice(pollsBefore + 1);
    assert.ok(draining.length > 0 && draining.every((p) => p.running.includes(upgrade.id)), JSON.stringify(draining));
  });

  it('cancels what is still running at the drain deadline', async () => {
    const { server, executor, worker } = setup({ drainDeadlineMs: 300 });
    await worker.start();
    const op = testOperation();
    server.offer({ operation: op });
    await until(() => executor.started.length === 1, 'a start');
    const started = Date.now();
    await worker.stop();
    assert.ok(Date.now() - started >= 300);
    assert.deepEqual(executor.cancelled, [op.id]);
    assert.equal(server.completed.get(op.id)!.outcome, 'cancelled');
  });

  it('runs a real script with the local executor, end to end', async () => {
    const server = new FakeServer();
    const worker = new Worker(config(), { channel: server, log: pino({ level: 'silent' }) });
    await worker.start();
    const op = testOperation({
      variables: [{ name: 'Password', value: 'sw0rdfish', sensitive: true }],
      script: {
        syntax: 'sh',
        body: 'echo "deploying as $(get_longshore_variable Longshore.Worker.Name)"\necho "pw $(get_longshore_variable Password)"\nset_longshore_variable Out done',
      },
    });
    server.offer({ operation: op });
    await until(() => server.completed.has(op.id), 'the completion', 10_000);
    const report = server.completed.get(op.id)!;
    assert.deepEqual(report, {
      outcome: 'succeeded',
      exitCode: 0,
      message: 'The script succeeded',
      outputVariables: [{ name: 'Out', value: 'done', sensitive: false }],
      finalSeq: 3,
    });
    assert.deepEqual(
      server.logs.get(op.id)!.map((l) => [l.seq, l.stream, l.text, l.source]),
      [
        [1, 'stdout', 'deploying as worker-1', 1],
        [2, 'stdout', 'pw ********', 2],
        [3, 'system', "Output variable 'Out' set", 3],
      ],
    );
    await worker.stop();
  });

  it('after a restart, resumes what the server still expects of it before the first poll, and discards the rest', async () => {
    const { server, executor, worker } = setup();
    const keep = testOperation();
    executor.leftoverIds = [keep.id, 'finished-op', 'unknown-op'];
    server.operationStates.set(keep.id, {
      id: keep.id,
      state: 'running',
      ackedSeq: 5,
      lastSource: 7,
      cancelRequested: false,
      operation: keep,
    });
    server.logs.set(
      keep.id,
      Array.from({ length: 5 }, (_, i) => ({ seq: i + 1, stream: 'stdout' as const, text: `before ${i + 1}`, ts: 0 })),
    );
    server.operationStates.set('finished-op', {
      id: 'finished-op',
      state: 'finished',
      ackedSeq: 9,
      lastSource: 9,
      cancelRequested: false,
    });
    server.operationStates.set('unknown-op', {
      id: 'unknown-op',
      state: 'unknown',
      ackedSeq: 0,
      lastSource: 0,
      cancelRequested: false,
    });
    await worker.start();
    assert.deepEqual(executor.resumed, [{ id: keep.id, resume: { lastSource: 7 } }]);
    assert.deepEqual(executor.discarded, ['finished-op', 'unknown-op']);
    await until(() => server.polls.length > 0, 'a poll');
    assert.deepEqual(server.polls[0]!.running, [keep.id], 'the first poll already reports the resumed operation');
    executor.finish(keep.id, success, 1);
    await until(() => server.completed.has(keep.id), 'the completion');
    assert.equal(server.completed.get(keep.id)!.finalSeq, 6, 'numbering continues after what the server has');
    await until(() => executor.released.includes(keep.id), 'the release after the report');
    await worker.stop();
  });

  it('a resumed operation that succeeded is not reported running while it is released, so the server has nothing to take back', async () => {
    const { server, executor, worker, entries } = setup();
    const keep = testOperation();
    executor.leftoverIds = [keep.id];
    server.operationStates.set(keep.id, {
      id: keep.id,
      state: 'running',
      ackedSeq: 0,
      lastSource: 0,
      cancelRequested: false,
      operation: keep,
    });
    let released!: () => void;
    executor.releaseGate = new Promise((resolve) => (released = resolve));
    await worker.start();
    executor.finish(keep.id, success, 1);
    await until(() => server.completed.has(keep.id), 'the completion');
    // The server answers a poll that still lists a finished operation with `forget`.
    const polled = server.polls.length;
    server.offer({ forget: keep.id });
    try {
      await until(() => server.polls.length >= polled + 2, 'polls after the report');
      assert.ok(!server.polls.at(-1)!.running.includes(keep.id), 'a finished operation is not listed as running');
      assert.deepEqual(
        entries.filter((e) => /no longer expects/.test(String(e.msg))),
        [],
      );
      assert.ok(!executor.cancelled.includes(keep.id));
    } finally {
      released();
      await until(() => executor.released.includes(keep.id), 'the release');
      await worker.stop();
    }
  });

  it('says why it is not ready: starting, then the server refusing, then ready', async () => {
    const { server, worker } = setup();
    assert.deepEqual(worker.readiness, { ready: false, reason: 'The worker is created' });
    server.failures.poll.push(
      new LongshoreError('SERVER_UNREACHABLE', 'Cannot reach the server at http://server.test'),
    );
    await worker.start();
    await until(() => worker.readiness.reason.includes('Cannot reach'), 'the failure in readiness');
    assert.equal(worker.readiness.ready, false);
    await until(() => worker.readiness.ready, 'ready again', 5000);
    await worker.stop();
  });
});

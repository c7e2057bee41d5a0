import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LongshoreClient } from '@longshore/client';
import { Lab } from '../support/lab.js';
import { registerFakeAgent } from '../support/agentClient.js';
import { TEST_ON_POSTGRES } from '../support/postgres.js';

// The audit's log: 3,000 lines of 64 KiB (186 MiB). Before pages were bounded in bytes, one reader
// took the server from ~170 MiB to 1.26 GiB, four to 3.1 GiB.
const LINES = 3_000;
const LINE_CHARS = 64 * 1024;
// What the worker's log shipper puts in one request (maxBatchBytes, 1 MiB).
const BATCH_BYTES = 1 << 20;
const PAGE_READERS = 3;
// On PostgreSQL the driver copies each row through its receive buffers before it becomes a string:
// about three times the short-lived garbage per line, which V8 collects later, so the peak is
// higher (measured: +107 MiB for this log, +141 MiB for one twice its size; SQLite +40 MiB).
// The defect this guards against took one reader past 1 GiB.
const RSS_GROWTH_LIMIT_MIB = TEST_ON_POSTGRES ? 250 : 150;
const SECRET = 'sekrit-in-the-log';

let lab: Lab;
before(async () => {
  lab = new Lab();
  // A server process of its own, so that its memory is measured apart from this test's; the
  // hand-driven worker does not poll while it writes, so its lease must outlast the writing.
  await lab.startServer({ LONGSHORE_LEASE_MS: '600000', LONGSHORE_WORKER_OFFLINE_AFTER_MS: '600000' });
});
after(() => lab.close());

const lineText = (seq: number) => {
  const head = `line ${seq} ${SECRET} `;
  return head + 'x'.repeat(LINE_CHARS - head.length);
};

function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) / 1024;
}

/** Pages through the whole log; answers how often each seq of the operation arrived. */
async function readAllPages(taskId: string, operationId: string): Promise<number[]> {
  const seen = new Array<number>(LINES + 1).fill(0);
  for (let after = 0; ;) {
    const page = (await lab.api('GET', `/api/tasks/${taskId}/log?after=${after}`)).body;
    if (page.lines.length === 0) return seen;
    for (const l of page.lines) if (l.operationId === operationId) countLine(seen, l);
    after = page.cursor;
  }
}

function countLine(seen: number[], line: { seq: number; text: string }): void {
  assert.equal(line.text, lineText(line.seq).replace(SECRET, '********'), `line ${line.seq} arrives whole and masked`);
  seen[line.seq]!++;
}

test(
  'several readers and followers of a 186 MiB log of 64 KiB lines get every line once, and the server stays within bounds of its start',
  { timeout: 600_000 },
  async () => {
    await lab.api('POST', '/api/environments', { name: 'Big' });
    await lab.api('POST', '/api/projects', {
      name: 'Wide',
      process: { steps: [{ name: 'Print', script: { body: 'echo wide' } }] },
      variables: [{ name: 'Token', value: SECRET, sensitive: true }],
    });
    const agent = await registerFakeAgent(lab, 'wide-lines');
    const taskId = (await lab.api('POST', '/api/deployments', { project: 'Wide', environment: 'Big' })).body
      .taskId as string;
    const op = (await agent.poll()).operations[0];
    const perBatch = Math.floor(BATCH_BYTES / (LINE_CHARS + 80));
    for (let seq = 1; seq <= LINES; seq += perBatch) {
      const lines = Array.from({ length: Math.min(perBatch, LINES - seq + 1) }, (_, i) => ({
        seq: seq + i,
        stream: 'stdout',
        ts: Date.now(),
        text: lineText(seq + i),
      }));
      const res = await agent.call('POST', `/api/agent/operations/${op.id}/logs`, { lines });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const done = await agent.call('POST', `/api/agent/operations/${op.id}/complete`, {
      outcome: 'succeeded',
      exitCode: 0,
      message: '',
      outputVariables: [],
      finalSeq: LINES,
    });
    assert.equal(done.status, 204);
    await lab.waitForTask(taskId, ['succeeded']);

    const pid = lab.server!.child.pid!;
    const before = rssMiB(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);

    // A follower that never reads: the server must wait for it, not queue the log in memory for it.
    const stalled = new AbortController();
    const stalledResponse = await fetch(`${lab.url}/api/tasks/${taskId}/log/stream`, {
      headers: { authorization: `Bearer ${lab.apiKey}` },
      signal: stalled.signal,
    });
    assert.equal(stalledResponse.status, 200);

    const client = new LongshoreClient({ url: lab.url, apiKey: lab.apiKey });
    const followed = new Array<number>(LINES + 1).fill(0);
    try {
      const [state, ...pages] = await Promise.all([
        client.tasks.follow(taskId, { onLine: (l) => l.operationId === op.id && countLine(followed, l) }),
        ...Array.from({ length: PAGE_READERS }, () => readAllPages(taskId, op.id)),
      ]);
      assert.equal(state, 'succeeded');
      for (const seen of [followed, ...pages])
        assert.deepEqual(seen.slice(1), new Array(LINES).fill(1), 'every line exactly once');
    } finally {
      clearInterval(sampler);
      stalled.abort();
    }
    const growth = peak - before;
    process.stdout.write(
      `server RSS ${before.toFixed(0)} MiB before reading, peak ${peak.toFixed(0)} MiB (+${growth.toFixed(0)} MiB) with ${PAGE_READERS} readers, a follower and a stalled follower\n`,
    );
    assert.ok(
      growth < RSS_GROWTH_LIMIT_MIB,
      `the server grew by ${growth.toFixed(0)} MiB while the log was read; the limit is ${RSS_GROWTH_LIMIT_MIB} MiB`,
    );
  },
);

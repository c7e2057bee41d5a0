import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../support/lab.js';

// MANY_TARGETS runs it at another size, to see how the time grows with the count.
const TARGETS = Number(process.env.MANY_TARGETS ?? 10_000);
const MAX_PARALLELISM = 50;
// The apply document takes at most 1,000 targets.
const APPLY_BATCH = 1000;
// The local worker starts a process per operation, which costs most of the time here (about 10 ms of CPU
// each): a few minutes on two cores. The limit leaves room for a machine busy with other work.
const RUN_TIMEOUT_MS = 9 * 60_000;

let lab: Lab;

before(async () => {
  lab = new Lab();
  // Leases of a minute, as by default: on a machine busy with other tests, a poll a few seconds
  // late must not make the operations it renews lost over minutes of running.
  await lab.startServer({ LONGSHORE_LEASE_MS: '60000' });
  // More room on the worker than the step allows, so that maxParallelism is what limits.
  await lab.startWorker('fleet-worker', { capacity: MAX_PARALLELISM + 14 });
});
after(() => lab.close());

/**
 * Follows the task log to the end instead of reading the task, which lists all of its operations:
 * polling that every few seconds would cost the server more than what is measured here.
 */
async function followToEnd(taskId: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let cursor = 0;
  let finished = 0;
  for (;;) {
    const page = (await lab.api('GET', `/api/tasks/${taskId}/log?after=${cursor}`)).body;
    cursor = page.cursor;
    finished += (page.lines as { text: string }[]).filter((l) => /^Step 'Touch' on /.test(l.text)).length;
    if (!['queued', 'running', 'cancelling'].includes(page.taskState)) return page.taskState;
    if (Date.now() > deadline)
      throw new Error(
        `after ${timeoutMs} ms the task is ${page.taskState} with ${finished} of ${TARGETS} operations finished`,
      );
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** How many of the intervals overlap at most at one instant. */
function maxOverlap(intervals: [number, number][]): number {
  const edges = intervals
    .flatMap(
      ([from, to]) =>
        [
          [from, 1],
          [to, -1],
        ] as const,
    )
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let most = 0;
  for (const [, delta] of edges) most = Math.max(most, (current += delta));
  return most;
}

test(
  `a step on ${TARGETS} targets is planned and runs to the end within its maxParallelism`,
  { timeout: RUN_TIMEOUT_MS + 60_000 },
  async () => {
    const started = Date.now();
    assert.equal((await lab.api('POST', '/api/apply', { environments: [{ name: 'Fleet' }] })).status, 200);
    for (let first = 0; first < TARGETS; first += APPLY_BATCH) {
      const targets = Array.from({ length: Math.min(APPLY_BATCH, TARGETS - first) }, (_, i) => ({
        name: `node-${String(first + i).padStart(5, '0')}`,
        type: 'generic',
        environments: ['Fleet'],
        tags: ['fleet'],
      }));
      const applied = await lab.api('POST', '/api/apply', { targets });
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
    }
    const project = {
      name: 'Fleet rollout',
      process: {
        steps: [
          {
            name: 'Touch',
            script: { body: 'echo ok' },
            runOn: { targetTags: ['fleet'], maxParallelism: MAX_PARALLELISM },
          },
        ],
      },
    };
    assert.equal((await lab.api('POST', '/api/apply', { projects: [project] })).status, 200);
    const targetsCreated = Date.now();

    const deployed = await lab.api('POST', '/api/deployments', { project: 'Fleet rollout', environment: 'Fleet' });
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
    const planned = Date.now();
    const state = await followToEnd(deployed.body.taskId, RUN_TIMEOUT_MS);
    const finished = Date.now();
    const task = (await lab.api('GET', `/api/tasks/${deployed.body.taskId}`)).body;
    console.log(
      `${TARGETS} targets: created in ${targetsCreated - started} ms, deployment planned in ${planned - targetsCreated} ms, ` +
        `ran in ${finished - planned} ms (${((finished - planned) / TARGETS).toFixed(2)} ms per operation)`,
    );

    const operations = task.steps[0].operations as any[];
    const unsuccessful = operations.filter((o) => o.outcome !== 'succeeded');
    assert.equal(
      state,
      'succeeded',
      `${unsuccessful.length} operations did not succeed, e.g. ${JSON.stringify(unsuccessful.slice(0, 3))}`,
    );
    assert.equal(operations.length, TARGETS);
    assert.equal(new Set(operations.map((o) => o.target)).size, TARGETS, 'one operation per target');
    assert.deepEqual([...new Set(operations.map((o) => o.outcome))], ['succeeded']);
    const overlap = maxOverlap(operations.map((o) => [Date.parse(o.startedAt), Date.parse(o.finishedAt)]));
    assert.ok(overlap <= MAX_PARALLELISM, `at most ${MAX_PARALLELISM} operations run at once, saw ${overlap}`);
  },
);

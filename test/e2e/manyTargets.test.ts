import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../support/lab.js';

const TARGETS = Number(process.env.MANY_TARGETS ?? 10_000);
const MAX_PARALLELISM = 50;
// The apply document takes at most 1,000 targets.
const APPLY_BATCH = 1000;

let lab: Lab;

before(async () => {
  lab = new Lab();
  await lab.startServer();
  // More room on the worker than the step allows, so that maxParallelism is what limits.
  await lab.startWorker('fleet-worker', { capacity: MAX_PARALLELISM + 14 });
});
after(() => lab.close());

/** How many of the intervals overlap at most at one instant. */
function maxOverlap(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([from, to]) => [[from, 1], [to, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let most = 0;
  for (const [, delta] of edges) most = Math.max(most, (current += delta));
  return most;
}

test(`a step on ${TARGETS} targets is planned and runs to the end within its maxParallelism`, { timeout: 240_000 }, async () => {
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
    process: { steps: [{ name: 'Touch', script: { body: 'echo ok' }, runOn: { targetTags: ['fleet'], maxParallelism: MAX_PARALLELISM } }] },
  };
  assert.equal((await lab.api('POST', '/api/apply', { projects: [project] })).status, 200);
  const targetsCreated = Date.now();

  const deployed = await lab.api('POST', '/api/deployments', { project: 'Fleet rollout', environment: 'Fleet' });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  const planned = Date.now();
  const task = await lab.waitForTask(deployed.body.taskId, ['succeeded', 'failed', 'cancelled'], 200_000, 2000);
  const finished = Date.now();
  console.log(
    `${TARGETS} targets: created in ${targetsCreated - started} ms, deployment planned in ${planned - targetsCreated} ms, ` +
      `ran in ${finished - planned} ms (${((finished - planned) / TARGETS).toFixed(2)} ms per operation)`,
  );

  assert.equal(task.state, 'succeeded', task.error ?? '');
  const operations = task.steps[0].operations as any[];
  assert.equal(operations.length, TARGETS);
  assert.equal(new Set(operations.map((o) => o.target)).size, TARGETS, 'one operation per target');
  assert.deepEqual([...new Set(operations.map((o) => o.outcome))], ['succeeded']);
  const overlap = maxOverlap(operations.map((o) => [Date.parse(o.startedAt), Date.parse(o.finishedAt)]));
  assert.ok(overlap <= MAX_PARALLELISM, `at most ${MAX_PARALLELISM} operations run at once, saw ${overlap}`);
});

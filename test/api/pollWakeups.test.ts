import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { registerFakeAgent, waitFor } from '../support/agentClient.js';

/** Long enough that a poll answered by a wake-up is told apart from one that waited out. */
const POLL_MS = 2_500;

let h: Harness;
before(async () => {
  h = await startHarness({ maxPollWaitMs: POLL_MS });
  await h.api('POST', '/api/apply', {
    environments: [{ name: 'Test' }],
    workerPools: [{ name: 'single' }, { name: 'fanout' }, { name: 'hangup' }],
    targets: Array.from({ length: 5 }, (_, i) => ({
      name: `web-${i}`,
      type: 'generic',
      environments: ['Test'],
      tags: ['web'],
    })),
    projects: [
      { name: 'Single', runOn: { pool: 'single' } },
      { name: 'Fanout', runOn: { pool: 'fanout', targetTags: ['web'] } },
      { name: 'Hangup', runOn: { pool: 'hangup' } },
    ].map(({ name, runOn }) => ({
      name,
      process: { steps: [{ name: 'Deploy', script: { body: 'echo hi' }, runOn }] },
    })),
  });
});
after(() => h.close());

interface IdlePoll {
  worker: string;
  controller: AbortController;
  startedAt: number;
  /** Set when the poll answers: what it carried and when. */
  answer?: { operations: string[]; afterMs: number };
  done: Promise<void>;
}

/** `count` workers of the pool, each with one long-poll waiting, started in order a little apart. */
async function idleWorkers(pool: string, count: number, free: number): Promise<IdlePoll[]> {
  const polls: IdlePoll[] = [];
  for (let i = 0; i < count; i++) {
    const agent = await registerFakeAgent(h, `${pool}-${i}`, [pool]);
    const controller = new AbortController();
    const poll: IdlePoll = { worker: agent.name, controller, startedAt: Date.now(), done: Promise.resolve() };
    poll.done = agent.poll([], free, POLL_MS, controller.signal).then(
      (body: { operations: { id: string }[] }) => {
        poll.answer = { operations: body.operations.map((o) => o.id), afterMs: Date.now() - poll.startedAt };
      },
      () => {
        // Hung up on purpose.
      },
    );
    polls.push(poll);
    await sleep(40);
  }
  // Every poll has looked at the empty queue and is waiting.
  await sleep(300);
  return polls;
}

const deploy = async (project: string) => {
  const res = await h.api('POST', '/api/deployments', { project, environment: 'Test' });
  assert.equal(res.status, 201, JSON.stringify(res.body));
};
const answered = (polls: IdlePoll[]) => polls.filter((p) => p.answer && p.answer.afterMs < POLL_MS - 500);

test('one queued operation answers exactly one of the idle polls, the one that waited longest', async () => {
  const polls = await idleWorkers('single', 6, 10);
  await deploy('Single');
  await waitFor('a poll to answer', async () => answered(polls).length > 0, POLL_MS);
  await sleep(300);
  const woken = answered(polls);
  assert.deepEqual(
    woken.map((p) => [p.worker, p.answer!.operations.length]),
    [['single-0', 1]],
  );
  await Promise.all(polls.map((p) => p.done));
  for (const p of polls.slice(1))
    assert.deepEqual(p.answer!.operations, [], `${p.worker} waited out its poll and was given nothing`);
});

test('five queued operations answer polls whose free slots cover them, and no more', async () => {
  const polls = await idleWorkers('fanout', 8, 2);
  await deploy('Fanout');
  await waitFor('the operations to be leased', async () => {
    const carried = answered(polls).flatMap((p) => p.answer!.operations);
    return carried.length === 5;
  });
  await sleep(300);
  const woken = answered(polls);
  assert.ok(woken.length <= 5, `${woken.length} polls answered for 5 operations`);
  assert.deepEqual(
    woken.map((p) => [p.worker, p.answer!.operations.length]),
    [
      ['fanout-0', 2],
      ['fanout-1', 2],
      ['fanout-2', 1],
    ],
  );
  assert.equal(new Set(woken.flatMap((p) => p.answer!.operations)).size, 5, 'each operation went to one worker');
  await Promise.all(polls.map((p) => p.done));
});

test('when the longest-waiting worker hangs up, the operation still goes to another idle worker at once', async () => {
  const polls = await idleWorkers('hangup', 4, 10);
  polls[0]!.controller.abort();
  await sleep(50);
  const queuedAt = Date.now();
  await deploy('Hangup');
  await waitFor('a poll to answer', async () => answered(polls).length > 0, POLL_MS);
  const woken = answered(polls);
  assert.deepEqual(
    woken.map((p) => [p.worker, p.answer!.operations.length]),
    [['hangup-1', 1]],
  );
  assert.ok(Date.now() - queuedAt < POLL_MS / 2, 'leased when queued, not when a poll waited out');
  await Promise.all(polls.map((p) => p.done));
});

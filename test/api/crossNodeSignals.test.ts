import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { registerFakeAgent, waitFor, type FakeAgent } from '../support/agentClient.js';
import type { Harness } from '../support/serverHarness.js';
import { startHarnessNodes, type HarnessNodes } from '../support/serverNodes.js';
import { startReceiver } from '../support/webhookReceiver.js';

/**
 * Two server nodes on one PostgreSQL database: work queued, cancels requested and log lines
 * posted on one node reach the workers and followers that are on the other.
 */
const POSTGRES_INSTALLED = existsSync('/usr/lib/postgresql');
/** Long, so that an answer carried by a wake-up is told apart from one whose wait ran out. */
const POLL_MS = 10_000;
const skip = !POSTGRES_INSTALLED && 'PostgreSQL is not installed';

let cluster: HarnessNodes;
let a: Harness;
let b: Harness;
before(async () => {
  if (!POSTGRES_INSTALLED) return;
  // Sweeps far apart: what these tests see at once came by a notice, not by the next sweep.
  cluster = await startHarnessNodes(2, { maxPollWaitMs: POLL_MS, sweepIntervalMs: 30_000 });
  [a, b] = cluster.nodes as [Harness, Harness];
  const res = await b.api('POST', '/api/apply', {
    environments: [{ name: 'Test' }],
    workerPools: ['across', 'spread', 'logs', 'cancel', 'empty', 'report'].map((name) => ({ name })),
    targets: Array.from({ length: 5 }, (_, i) => ({
      name: `web-${i}`,
      type: 'generic',
      environments: ['Test'],
      tags: ['web'],
    })),
    projects: [
      { name: 'Across', runOn: { pool: 'across' } },
      { name: 'Spread', runOn: { pool: 'spread' } },
      { name: 'Fanout', runOn: { pool: 'spread', targetTags: ['web'] } },
      { name: 'Logs', runOn: { pool: 'logs' } },
      { name: 'Cancel', runOn: { pool: 'cancel' } },
      { name: 'Unserved', runOn: { pool: 'empty' } },
      { name: 'Report', runOn: { pool: 'report' } },
    ].map(({ name, runOn }) => ({
      name,
      process: { steps: [{ name: 'Deploy', script: { body: 'echo hi' }, runOn }] },
    })),
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
});
after(() => cluster?.close());

async function deploy(node: Harness, project: string): Promise<string> {
  const res = await node.api('POST', '/api/deployments', { project, environment: 'Test' });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.taskId as string;
}

interface Poll {
  worker: string;
  startedAt: number;
  answer?: { operations: string[]; cancel: string[]; afterMs: number };
  done: Promise<void>;
}

function longPoll(agent: FakeAgent, free: number, running: string[] = []): Poll {
  const poll: Poll = { worker: agent.name, startedAt: Date.now(), done: Promise.resolve() };
  poll.done = agent.poll(running, free, POLL_MS).then((body: { operations: { id: string }[]; cancel: string[] }) => {
    poll.answer = {
      operations: body.operations.map((o) => o.id),
      cancel: body.cancel,
      afterMs: Date.now() - poll.startedAt,
    };
  });
  return poll;
}

const early = (polls: Poll[]) => polls.filter((p) => p.answer && p.answer.afterMs < POLL_MS / 2);

/** A worker registered through `node` takes an operation of `project` there, and holds it. */
async function runningOperation(node: Harness, project: string, pool: string): Promise<[FakeAgent, string, string]> {
  const agent = await registerFakeAgent(node, `${pool}-runner`, [pool]);
  const taskId = await deploy(node, project);
  const op = await waitFor('the operation to be leased', async () => (await agent.poll([], 1, 0)).operations[0]);
  // A first batch tells the server the worker runs it.
  await agent.call('POST', `/api/agent/operations/${op.id}/logs`, { lines: [] });
  return [agent, taskId, op.id as string];
}

test('a worker long-polling node A gets an operation queued through node B at once', { skip }, async () => {
  const agent = await registerFakeAgent(a, 'across-0', ['across']);
  const poll = longPoll(agent, 1);
  await sleep(500);
  const queuedAt = Date.now();
  await deploy(b, 'Across');
  await poll.done;
  assert.equal(poll.answer!.operations.length, 1);
  const waited = Date.now() - queuedAt;
  assert.ok(waited < 1_000, `answered ${waited} ms after the operation was queued (poll timeout ${POLL_MS} ms)`);
});

test(
  'with workers on both nodes, one operation answers one poll, and five answer the polls that cover them',
  { skip },
  async () => {
    const agents: FakeAgent[] = [];
    for (let i = 0; i < 6; i++) agents.push(await registerFakeAgent(i % 2 ? b : a, `spread-${i}`, ['spread']));
    let polls: Poll[] = [];
    for (const agent of agents) {
      polls.push(longPoll(agent, 2));
      await sleep(40);
    }
    await sleep(500);
    await deploy(a, 'Spread');
    await waitFor('a poll to answer', async () => early(polls).length > 0, POLL_MS);
    await sleep(500);
    assert.deepEqual(
      early(polls).map((p) => [p.worker, p.answer!.operations.length]),
      [['spread-0', 1]],
      'the longest-waiting poll, on node A, took it and no other poll answered',
    );

    // The woken worker polls again, running what it took, and joins the back of the queue; the others still wait.
    polls = [...polls.slice(1), longPoll(agents[0]!, 2, polls[0]!.answer!.operations)];
    await sleep(500);
    await deploy(b, 'Fanout');
    await waitFor(
      'five operations to be leased',
      async () => early(polls).flatMap((p) => p.answer!.operations).length === 5,
    );
    await sleep(500);
    const woken = early(polls);
    assert.deepEqual(
      woken.map((p) => [p.worker, p.answer!.operations.length]),
      [
        ['spread-1', 2],
        ['spread-2', 2],
        ['spread-3', 1],
      ],
      'the three longest-waiting polls, on both nodes, by their free slots',
    );
    assert.equal(new Set(woken.flatMap((p) => p.answer!.operations)).size, 5);
    await Promise.all(polls.map((p) => p.done));
  },
);

test('a log follower on node B sees lines posted to node A within a second', { skip }, async () => {
  const [agent, taskId, operationId] = await runningOperation(a, 'Logs', 'logs');
  const follower = new AbortController();
  const stream = await fetch(`${b.url}/api/tasks/${taskId}/log/stream`, {
    headers: { authorization: `Bearer ${b.apiKey}` },
    signal: follower.signal,
  });
  assert.equal(stream.status, 200);
  let text = '';
  const seen = new Map<string, number>();
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream.body!) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      for (const m of text.matchAll(/line (\d+) from A/g)) if (!seen.has(m[0])) seen.set(m[0], Date.now());
    }
  })().catch(() => {
    // Aborted at the end.
  });
  await sleep(500);
  const sentAt: number[] = [];
  for (let seq = 1; seq <= 3; seq++) {
    sentAt.push(Date.now());
    const res = await agent.call('POST', `/api/agent/operations/${operationId}/logs`, {
      lines: [{ seq, stream: 'stdout', ts: Date.now(), text: `line ${seq} from A` }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await sleep(300);
  }
  await waitFor('the follower to see every line', async () => seen.size === 3, 5_000);
  for (let seq = 1; seq <= 3; seq++) {
    const delay = seen.get(`line ${seq} from A`)! - sentAt[seq - 1]!;
    assert.ok(delay < 1_000, `line ${seq} reached the follower on B ${delay} ms after it was posted to A`);
  }
  follower.abort();
  await reading;
  assert.equal(text.match(/line 2 from A/g)?.length, 1, 'each line once');
});

test('a cancel requested on node B reaches the worker polling node A', { skip }, async () => {
  const [agent, taskId, operationId] = await runningOperation(a, 'Cancel', 'cancel');
  const poll = longPoll(agent, 0, [operationId]);
  await sleep(500);
  const requestedAt = Date.now();
  const res = await b.api('POST', `/api/tasks/${taskId}/cancel`);
  assert.ok(res.status < 300, JSON.stringify(res.body));
  await poll.done;
  assert.deepEqual(poll.answer!.cancel, [operationId]);
  const waited = Date.now() - requestedAt;
  assert.ok(waited < 1_000, `the poll answered ${waited} ms after the cancel (poll timeout ${POLL_MS} ms)`);
});

test('a result reported to node B advances the task node A holds at once', { skip }, async () => {
  const agent = await registerFakeAgent(b, 'report-0', ['report']);
  const taskId = await deploy(a, 'Report');
  const op = await waitFor('the operation to be leased', async () => (await agent.poll([], 1, 0)).operations[0]);
  const reportedAt = Date.now();
  assert.equal((await agent.complete(op.id)).status, 204);
  await waitFor(
    'the task to succeed',
    async () => (await b.api('GET', `/api/tasks/${taskId}`)).body.state === 'succeeded',
  );
  const waited = Date.now() - reportedAt;
  // Node A holds the task (it created it); B asked it to advance, and A's own look is a sweep (30 s) away.
  assert.ok(waited < 3_000, `succeeded ${waited} ms after the result reached node B`);
});

/** The connections the nodes hear each other on, in this test's database. */
async function listeningConnections(terminate: boolean): Promise<number> {
  const admin = new pg.Client({ connectionString: cluster.database });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      `SELECT ${terminate ? 'pg_terminate_backend(pid)' : 'pid'} FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'longshore-server-signals'`,
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

test(
  'nodes whose listening connections were cut reconnect, and work queued on B still reaches a poll on A',
  { skip },
  async () => {
    assert.equal(await listeningConnections(true), 2, 'one listening connection per node, both cut');
    const agent = await registerFakeAgent(a, 'across-after-cut', ['across']);
    const poll = longPoll(agent, 1);
    await sleep(300);
    const queuedAt = Date.now();
    await deploy(b, 'Across');
    await poll.done;
    assert.equal(poll.answer!.operations.length, 1);
    const waited = Date.now() - queuedAt;
    assert.ok(waited < 2_500, `answered ${waited} ms after the operation was queued (poll timeout ${POLL_MS} ms)`);
    await waitFor('both nodes to listen again', async () => (await listeningConnections(false)) === 2, 10_000);
  },
);

test('a delivery queued on either node goes out at once, whichever node runs the deliveries', { skip }, async () => {
  const receiver = await startReceiver();
  try {
    const made = await a.api('POST', '/api/webhooks', {
      name: 'Across',
      url: receiver.url,
      events: ['deployment.succeeded'],
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    receiver.secret = made.body.secret;
    // One of the two does not hold the delivery lease; the deliverer's own look is a minute away.
    for (const node of [a, b]) {
      const queuedAt = Date.now();
      const test = await node.api('POST', '/api/webhooks/Across/test');
      assert.equal(test.status, 202, JSON.stringify(test.body));
      const ping = await receiver.next('ping', (r) => r.body.id === test.body.id, 10_000);
      assert.ok(ping.signatureValid);
      const waited = ping.at - queuedAt;
      assert.ok(waited < 3_000, `delivered ${waited} ms after it was queued on ${node === a ? 'A' : 'B'}`);
    }
  } finally {
    await receiver.stop();
  }
});

test(
  'a step queued on either node in a pool with no worker is said at once, by the node that watches pools',
  { skip },
  async () => {
    for (const node of [a, b]) {
      const queuedAt = Date.now();
      const taskId = await deploy(node, 'Unserved');
      const line = await waitFor('the step to be said unserved', async () => {
        const lines = (await a.api('GET', `/api/tasks/${taskId}/log`)).body.lines as { text: string }[];
        return lines.find((l) => l.text.startsWith("No worker in pool 'empty'"));
      });
      const waited = Date.now() - queuedAt;
      assert.ok(
        waited < 3_000,
        `said ${waited} ms after the step was queued on ${node === a ? 'A' : 'B'}: ${line.text}`,
      );
      assert.equal((await node.api('POST', `/api/tasks/${taskId}/cancel`)).status < 300, true);
    }
  },
);

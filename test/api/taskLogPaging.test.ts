import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LongshoreClient } from '@longshore/client';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { registerFakeAgent, type FakeAgent } from '../support/agentClient.js';

const SECRET = 'pa55-word-in-output';
let h: Harness;
let agent: FakeAgent;
before(async () => {
  h = await startHarness({ leaseMs: 600_000 });
  await h.api('POST', '/api/environments', { name: 'Test' });
  await h.api('POST', '/api/projects', {
    name: 'Pages',
    process: { steps: [{ name: 'Print', script: { body: 'echo pages' } }] },
    variables: [{ name: 'Password', value: SECRET, sensitive: true }],
  });
  agent = await registerFakeAgent(h, 'pages');
});
after(() => h.close());

async function deploy(): Promise<{ taskId: string; opId: string }> {
  const taskId = (await h.api('POST', '/api/deployments', { project: 'Pages', environment: 'Test' })).body
    .taskId as string;
  return { taskId, opId: (await agent.poll()).operations[0].id };
}

const send = async (opId: string, lines: { seq: number; text: string }[]) => {
  const res = await agent.call('POST', `/api/agent/operations/${opId}/logs`, {
    lines: lines.map((l) => ({ ...l, stream: 'stdout', ts: Date.now() })),
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.ackedSeq as number;
};

const complete = async (opId: string, finalSeq: number) =>
  assert.equal(
    (
      await agent.call('POST', `/api/agent/operations/${opId}/complete`, {
        outcome: 'succeeded',
        exitCode: 0,
        message: '',
        outputVariables: [],
        finalSeq,
      })
    ).status,
    204,
  );

/** Every page of the log at these limits; asserts each page keeps to them. */
async function pages(taskId: string, query: string, limits: { lines: number; bytes: number }): Promise<any[][]> {
  const all: any[][] = [];
  for (let after = 0; ;) {
    const res = await fetch(`${h.url}/api/tasks/${taskId}/log?after=${after}&${query}`, {
      headers: { authorization: `Bearer ${h.apiKey}` },
    });
    assert.equal(res.status, 200);
    const page = (await res.json()) as { lines: any[]; cursor: number; complete: boolean };
    const bytes = page.lines.reduce((n: number, l: unknown) => n + Buffer.byteLength(JSON.stringify(l)) + 1, 0);
    assert.ok(page.lines.length <= limits.lines, `${page.lines.length} lines`);
    assert.ok(
      page.lines.length <= 1 || bytes <= limits.bytes,
      `${bytes} bytes in a page of ${page.lines.length} lines`,
    );
    if (page.lines.length === 0) {
      assert.equal(page.complete, true, 'an ended task says when its log is read to the end');
      return all;
    }
    all.push(page.lines);
    after = page.cursor;
  }
}

test('a line longer than the stored cap keeps its head, masked, behind a marker; a resent batch is stored once and numbering goes on', async () => {
  const { taskId, opId } = await deploy();
  // 90,000 bytes of text in 30,000 characters: within the wire limit, above the stored cap. The
  // second secret spans the place the cap cuts the unmasked text.
  const wide = `${SECRET} ${'€'.repeat(21_812)}${SECRET}${'€'.repeat(8_000)}`;
  assert.equal(
    await send(opId, [
      { seq: 1, text: wide },
      { seq: 2, text: 'two' },
    ]),
    2,
  );
  assert.equal(
    await send(opId, [
      { seq: 1, text: wide },
      { seq: 2, text: 'two' },
      { seq: 3, text: `three ${SECRET}` },
    ]),
    3,
    'the worker resends after a crash',
  );
  await complete(opId, 3);
  const lines = (await pages(taskId, 'maxBytes=1024', { lines: 5000, bytes: 1024 }))
    .flat()
    .filter((l) => l.operationId === opId);
  assert.deepEqual(
    lines.map((l) => l.seq),
    [1, 2, 3],
  );
  const first = lines[0].text as string;
  assert.ok(Buffer.byteLength(first) <= 64 * 1024, `${Buffer.byteLength(first)} bytes stored`);
  assert.ok(first.startsWith('******** €€€'), first.slice(0, 40));
  assert.ok(/€ … \[line truncated: \d+ more bytes not stored\]$/.test(first), first.slice(-80));
  assert.ok(!first.includes(SECRET.slice(0, 4)), 'a secret at the cut leaves nothing of itself');
  assert.deepEqual(
    lines.slice(1).map((l) => l.text),
    ['two', 'three ********'],
  );
});

test('pages stop at the byte limit or the line limit, whichever comes first, and together hold every line once', async () => {
  const { taskId, opId } = await deploy();
  // Lines from 10 bytes to 60 KiB, in batches the server stores as several rows.
  const text = (seq: number) => `line ${seq} `.padEnd(seq % 7 === 0 ? 60_000 : 10 + ((seq * 131) % 9_000), 'z');
  for (let seq = 1; seq <= 300; seq += 50)
    await send(
      opId,
      Array.from({ length: 50 }, (_, i) => ({ seq: seq + i, text: text(seq + i) })),
    );
  await complete(opId, 300);
  for (const [query, limits] of [
    ['limit=7&maxBytes=16777216', { lines: 7, bytes: 16 << 20 }],
    ['limit=5000&maxBytes=65536', { lines: 5000, bytes: 65536 }],
    ['limit=20&maxBytes=100000', { lines: 20, bytes: 100_000 }],
    ['', { lines: 5000, bytes: 1 << 20 }],
  ] as const) {
    const lines = (await pages(taskId, query, limits)).flat().filter((l) => l.operationId === opId);
    assert.deepEqual(
      lines.map((l) => l.seq),
      Array.from({ length: 300 }, (_, i) => i + 1),
      query,
    );
    for (const l of lines) assert.equal(l.text, text(l.seq));
  }

  // A follower gets the same lines once, over events bounded the same way.
  const client = new LongshoreClient({ url: h.url, apiKey: h.apiKey });
  const followed: number[] = [];
  const state = await client.tasks.follow(taskId, { onLine: (l) => l.operationId === opId && followed.push(l.seq) });
  assert.equal(state, 'succeeded');
  assert.deepEqual(
    followed,
    Array.from({ length: 300 }, (_, i) => i + 1),
  );
});

test('page limits out of range are refused with the reason', async () => {
  const { taskId, opId } = await deploy();
  await complete(opId, 0);
  for (const query of ['maxBytes=10', 'maxBytes=999999999', 'limit=0', 'after=-1']) {
    const res = await h.api('GET', `/api/tasks/${taskId}/log?${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(res.body.code, 'VALIDATION_FAILED');
  }
});

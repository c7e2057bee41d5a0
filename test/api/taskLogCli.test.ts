import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../support/lab.js';
import { registerFakeAgent, waitFor, type FakeAgent } from '../support/agentClient.js';

// Long enough lines that the server's byte-bounded pages and events end inside its stored rows.
const LINES = 400;
const lineText = (seq: number) => `line ${seq} `.padEnd(seq % 3 === 0 ? 60_000 : 20_000, 'w');

let lab: Lab;
let agent: FakeAgent;
before(async () => {
  lab = new Lab();
  // The hand-driven worker polls only to take the operation: its lease must outlast the test.
  await lab.startServer({ LONGSHORE_LEASE_MS: '600000', LONGSHORE_WORKER_OFFLINE_AFTER_MS: '600000' });
  await lab.api('POST', '/api/environments', { name: 'Test' });
  await lab.api('POST', '/api/projects', {
    name: 'Long',
    process: { steps: [{ name: 'Print', script: { body: 'echo long' } }] },
  });
  agent = await registerFakeAgent(lab, 'long-lines');
});
after(() => lab.close());

/** Asserts the CLI printed each script line once, whole, in order. */
function assertEveryLineOnce(output: string): void {
  const printed = output.split('\n').filter((l) => l.startsWith('[Print] '));
  assert.equal(printed.length, LINES, `${printed.length} script lines printed`);
  printed.forEach((l, i) =>
    assert.ok(l === `[Print] ${lineText(i + 1)}`, `line ${i + 1} is printed once, whole, in order: ${l.slice(0, 40)}`),
  );
}

test(
  'deploy --follow, tasks log and tasks log --follow print every line of a log of long lines once',
  { timeout: 300_000 },
  async () => {
    const following = lab.cli(['deploy', 'Long', '--to', 'Test', '--follow']);
    const op = await waitFor('the deployment to reach the worker', async () => (await agent.poll()).operations[0]);
    // Sent while the CLI follows, in the worker's batches of up to 1 MiB.
    for (let seq = 1; seq <= LINES; seq += 16) {
      const lines = Array.from({ length: Math.min(16, LINES - seq + 1) }, (_, i) => ({
        seq: seq + i,
        stream: 'stdout',
        ts: Date.now(),
        text: lineText(seq + i),
      }));
      assert.equal((await agent.call('POST', `/api/agent/operations/${op.id}/logs`, { lines })).status, 200);
    }
    assert.equal(
      (
        await agent.call('POST', `/api/agent/operations/${op.id}/complete`, {
          outcome: 'succeeded',
          exitCode: 0,
          message: '',
          outputVariables: [],
          finalSeq: LINES,
        })
      ).status,
      204,
    );
    const followed = await following;
    assert.equal(followed.code, 0, followed.output.slice(-2000));
    assertEveryLineOnce(followed.output);

    const read = await lab.cli(['tasks', 'log', op.taskId]);
    assert.equal(read.code, 0, read.output.slice(-2000));
    assertEveryLineOnce(read.output);
    const refollowed = await lab.cli(['tasks', 'log', op.taskId, '--follow']);
    assert.equal(refollowed.code, 0, refollowed.output.slice(-2000));
    assertEveryLineOnce(refollowed.output);
  },
);

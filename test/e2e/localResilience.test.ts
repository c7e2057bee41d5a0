import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../support/lab.js';

let lab: Lab;
before(async () => {
  lab = new Lab();
  await lab.startServer();
  await lab.apply('environments: [ { name: Test } ]');
});
after(() => lab.close());

const deploy = async (project: string) =>
  JSON.parse((await lab.cli(['deploy', project, '--to', 'Test', '--output', 'json'])).output).taskId as string;

async function waitForLines(taskId: string, count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await lab.taskLog(taskId)).filter((l) => l.operationId).length < count) {
    if (Date.now() > deadline) throw new Error(`task ${taskId} never reached ${count} lines`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a server restart mid-deployment loses and doubles no log line', async () => {
  await lab.startWorker('restart-worker');
  await lab.apply(`
projects:
  - name: Chatty
    process:
      steps:
        - name: Count
          script: { body: 'i=1; while [ $i -le 400 ]; do echo "line $i"; i=$((i+1)); sleep 0.01; done' }
        - name: After
          script: { body: 'echo "after the restart"' }
`);
  const taskId = await deploy('Chatty');
  await waitForLines(taskId, 40);
  await lab.server!.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 1500));
  await lab.startServer();
  const task = await lab.waitForTask(taskId, ['succeeded', 'failed'], 40_000);
  assert.equal(task.state, 'succeeded', JSON.stringify(task));
  const lines = await lab.taskLog(taskId);
  const count = lines.filter((l) => l.step === 'Count');
  assert.deepEqual(
    count.map((l) => l.seq),
    count.map((_, i) => i + 1),
    'seq contiguous from 1',
  );
  const printed = count.filter((l) => /^line \d+$/.test(l.text)).map((l) => Number(l.text.slice(5)));
  assert.deepEqual(
    printed,
    Array.from({ length: 400 }, (_, i) => i + 1),
    'every line once, in order',
  );
  assert.ok(lines.some((l) => l.text === 'after the restart'));
});

test('a worker killed mid-operation: the operation is lost and nothing runs twice', async () => {
  const marker = join(lab.dir, 'runs.txt');
  await lab.apply('workerPools: [ { name: Doomed } ]');
  const worker = await lab.startWorker('doomed-worker', { pools: ['Doomed'] });
  await lab.apply(`
projects:
  - name: Fragile
    process:
      steps:
        - name: Long
          runOn: { pool: Doomed }
          script: { body: 'echo run >> ${marker}; echo "started"; sleep 3; echo "finished"' }
`);
  const taskId = await deploy('Fragile');
  await waitForLines(taskId, 1);
  await worker.kill('SIGKILL');
  const task = await lab.waitForTask(taskId, ['failed'], 20_000);
  const op = task.steps[0].operations[0];
  assert.equal(op.outcome, 'lost');
  assert.match(op.message, /doomed-worker/);
  const deadline = Date.now() + 10_000;
  while ((await lab.api('GET', '/api/workers/doomed-worker')).body.status !== 'offline') {
    assert.ok(Date.now() < deadline, 'the silent worker shows as offline after missed heartbeats');
    await new Promise((r) => setTimeout(r, 200));
  }
  await lab.startWorker('doomed-worker');
  await new Promise((r) => setTimeout(r, 4000));
  assert.ok(existsSync(marker));
  assert.equal(readFileSync(marker, 'utf8'), 'run\n', 'the script ran exactly once');
  const workers = (await lab.api('GET', '/api/workers/doomed-worker')).body;
  assert.equal(workers.status, 'online', 'the restarted worker reconnected with its stored credential');
});

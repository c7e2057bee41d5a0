import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { registerFakeAgent } from '../support/agentClient.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

test("later steps see each target's output variables, the last finished one unscoped, without the task rewritten per operation", async () => {
  await h.api('POST', '/api/apply', {
    environments: [{ name: 'Outputs' }],
    targets: ['t-1', 't-2'].map((name) => ({ name, type: 'generic', environments: ['Outputs'], tags: ['web'] })),
    projects: [
      {
        name: 'Outputs',
        process: {
          steps: [
            // One at a time, so that the order they finish in is known.
            { name: 'Produce', script: { body: 'true' }, runOn: { targetTags: ['web'], maxParallelism: 1 } },
            {
              name: 'Use',
              script: {
                body: 'echo #{Longshore.Action[Produce].Output[t-1].Color} #{Longshore.Action[Produce].Output[t-2].Color} #{Longshore.Action[Produce].Output.Color}',
              },
            },
          ],
        },
      },
    ],
  });
  const taskId = (await h.api('POST', '/api/deployments', { project: 'Outputs', environment: 'Outputs' })).body.taskId;
  const stored = async () =>
    (await h.server.ctx.db.selectFrom('tasks').select('context').where('id', '=', taskId).executeTakeFirstOrThrow())
      .context;
  const contextBefore = await stored();
  const agent = await registerFakeAgent(h, 'outputs');
  const complete = async (outputVariables: object[]) => {
    const [op] = (await agent.poll()).operations;
    const done = await agent.call('POST', `/api/agent/operations/${op.id}/complete`, {
      outcome: 'succeeded',
      exitCode: 0,
      message: '',
      outputVariables,
      finalSeq: 0,
    });
    assert.equal(done.status, 204);
    return op;
  };
  assert.equal((await complete([{ name: 'Color', value: 'red', sensitive: false }])).target.name, 't-1');
  assert.equal(
    (
      await complete([
        { name: 'Color', value: 'blue', sensitive: false },
        { name: 'Key', value: 's3cret', sensitive: true },
      ])
    ).target.name,
    't-2',
  );
  // Rewriting the task's record after every operation, with every output so far, was quadratic over thousands of targets.
  assert.equal(await stored(), contextBefore, 'the task record is not rewritten per operation');

  const [use] = (await agent.poll()).operations;
  assert.equal(use.step.name, 'Use');
  assert.equal(use.script.body, 'echo red blue blue');
  const key = use.variables.find((v: { name: string }) => v.name === 'Longshore.Action[Produce].Output[t-2].Key');
  assert.deepEqual(key, { name: 'Longshore.Action[Produce].Output[t-2].Key', value: 's3cret', sensitive: true });
});

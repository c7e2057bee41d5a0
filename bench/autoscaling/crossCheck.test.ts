import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossCheck, NODE_SECONDS_TOLERANCE } from './crossCheck.js';

// About 35 s: a warm-up cycle, then eight pods over some 25 s of the sandbox's real time.
test('the model and the sandbox agree on a small trace: the same nodes, node-seconds within 20%, each wait within 1 s', async () => {
  const { model, sandbox, disagreements } = await crossCheck();
  assert.deepEqual(disagreements, [], JSON.stringify({ model, sandbox }, null, 1));
  assert.equal(model.nodesAdded, 4, 'the trace adds three nodes, then one more from zero');
  assert.ok(Math.abs(sandbox.nodeSeconds / model.nodeSeconds - 1) <= NODE_SECONDS_TOLERANCE);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LongshoreError } from '@longshore/protocol';
import { failureMessage } from './failureMessage.js';

test('a coded error is one line with its code; an uncoded one is a bug and keeps its stack', () => {
  const cause = new Error('node default did not register');
  const clusterFailed = new LongshoreError(
    'CLUSTER_START_FAILED',
    `the sandbox's nodes did not start: ${String(cause)}`,
    undefined,
    { cause },
  );
  assert.equal(
    failureMessage(clusterFailed),
    "error [CLUSTER_START_FAILED]: the sandbox's nodes did not start: Error: node default did not register",
  );
  const system = Object.assign(new Error('listen EADDRINUSE: address already in use'), { code: 'EADDRINUSE' });
  assert.equal(failureMessage(system), 'error [EADDRINUSE]: listen EADDRINUSE: address already in use');
  for (const coded of [clusterFailed, system]) assert.doesNotMatch(failureMessage(coded), /\n|\bat /);

  const bug = new TypeError("Cannot read properties of undefined (reading 'name')");
  assert.match(failureMessage(bug), /^error: TypeError: Cannot read properties[^\n]*\n\s+at /);
  assert.equal(failureMessage('thrown text'), 'error: thrown text');
});

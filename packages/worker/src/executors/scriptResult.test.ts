import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testOperation } from '../testing/operation.fixture.js';
import { scriptResult } from './scriptResult.js';

const operation = testOperation();
const lost = () => ({ outcome: 'lost' as const, message: 'the pod vanished' });
const variables = [{ name: 'v', value: '1', sensitive: false }];

describe('scriptResult', () => {
  it('a stop decides, whatever the script wrote', () => {
    assert.equal(
      scriptResult(operation, { stopped: 'cancelled', exitCode: 0, unexplained: lost }, []).outcome,
      'cancelled',
    );
    const timedOut = scriptResult(operation, { stopped: 'timed_out', exitCode: 1, unexplained: lost }, []);
    assert.equal(timedOut.outcome, 'timed_out');
    assert.match(timedOut.message, new RegExp(`timeout of ${operation.timeoutSeconds} seconds`));
  });

  it('then the exit code', () => {
    assert.deepEqual(scriptResult(operation, { exitCode: 0, unexplained: lost }, variables), {
      outcome: 'succeeded',
      exitCode: 0,
      message: 'The script succeeded',
      outputVariables: variables,
    });
    assert.deepEqual(scriptResult(operation, { exitCode: 3, unexplained: lost }, []), {
      outcome: 'failed',
      exitCode: 3,
      message: 'The script exited with code 3',
      outputVariables: [],
    });
  });

  it("then the executor's explanation", () => {
    assert.deepEqual(scriptResult(operation, { unexplained: lost }, variables), {
      outcome: 'lost',
      message: 'the pod vanished',
      outputVariables: variables,
    });
  });
});

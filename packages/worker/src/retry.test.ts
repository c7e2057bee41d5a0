import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LongshoreError } from '@longshore/protocol';
import { retryTransient, type RetryTransientOptions } from './retry.js';

const quick: RetryTransientOptions = { attempts: 4, backoff: { initialMs: 1, maxMs: 4, random: () => 0.5 } };

/** A call that fails with the given errors in turn, then answers 'done'. */
function failing(...errors: Error[]): { call: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    call: async () => {
      const error = errors[calls++];
      if (error) throw error;
      return 'done';
    },
    calls: () => calls,
  };
}

const unreachable = (): LongshoreError => new LongshoreError('SERVER_UNREACHABLE', 'connection refused');

describe('retryTransient', () => {
  it('tries again after transient failures until the call works', async () => {
    const { call, calls } = failing(unreachable(), new LongshoreError('TIMEOUT', 'slow'));
    assert.equal(await retryTransient(call, quick), 'done');
    assert.equal(calls(), 3);
  });

  it('throws the last failure once the attempts are used up', async () => {
    const last = new LongshoreError('INTERNAL', 'the last one');
    const { call, calls } = failing(unreachable(), unreachable(), unreachable(), last);
    await assert.rejects(retryTransient(call, quick), (e) => e === last);
    assert.equal(calls(), 4);
  });

  it('does not retry an answer a retry would only repeat', async () => {
    const refused = new LongshoreError('FORBIDDEN', 'no');
    const { call, calls } = failing(refused);
    await assert.rejects(retryTransient(call, quick), (e) => e === refused);
    assert.equal(calls(), 1);
  });

  it('stops at the first failure once giveUp says so', async () => {
    const { call, calls } = failing(unreachable(), unreachable());
    await assert.rejects(retryTransient(call, { ...quick, giveUp: () => true }), { code: 'SERVER_UNREACHABLE' });
    assert.equal(calls(), 1);
  });

  it('ends a pause when the signal is aborted, with its reason', async () => {
    const abort = new AbortController();
    const { call, calls } = failing(unreachable());
    const trying = retryTransient(call, {
      attempts: 4,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(new Error('cancelled')), 20);
    await assert.rejects(trying, { message: 'cancelled' });
    assert.equal(calls(), 1);
  });

  it('backs off: the pause doubles up to the ceiling', async () => {
    const gaps: number[] = [];
    const { call } = failing(unreachable(), unreachable(), unreachable(), unreachable());
    let last = Date.now();
    const timed = async (): Promise<string> => {
      gaps.push(Date.now() - last);
      last = Date.now();
      return call();
    };
    await retryTransient(timed, { attempts: 5, backoff: { initialMs: 20, maxMs: 40, random: () => 1 } });
    // Timers fire no earlier than asked (give or take a millisecond of rounding).
    for (const [i, pause] of [20, 40, 40, 40].entries()) assert.ok(gaps[i + 1]! >= pause - 1, `${gaps.join(', ')} ms`);
  });
});

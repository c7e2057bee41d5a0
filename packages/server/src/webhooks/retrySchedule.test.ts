import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRetryDelayMs } from './retrySchedule.js';

const defaults = { baseMs: 10_000, maxDelayMs: 3_600_000, maxAttempts: 30 };
const middle = () => 0.5;

test('waits grow threefold from the base up to the cap', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 20].map((n) => nextRetryDelayMs(defaults, n, middle)),
    [10_000, 30_000, 90_000, 270_000, 810_000, 2_430_000, 3_600_000, 3_600_000],
  );
});

test('jitter stays within a fifth either way', () => {
  assert.equal(
    nextRetryDelayMs(defaults, 1, () => 0),
    8_000,
  );
  assert.equal(
    nextRetryDelayMs(defaults, 1, () => 0.999999),
    12_000,
  );
});

test('no wait after the last attempt', () => {
  assert.equal(nextRetryDelayMs(defaults, 30, middle), undefined);
  assert.equal(nextRetryDelayMs({ ...defaults, maxAttempts: 1 }, 1, middle), undefined);
});

test('with the defaults the last attempt comes about a day after the first', () => {
  let total = 0;
  for (let n = 1; n < defaults.maxAttempts; n++) total += nextRetryDelayMs(defaults, n, middle)!;
  assert.ok(total > 23 * 3_600_000 && total < 25 * 3_600_000, `${total / 3_600_000} h`);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextActivation, parseCron } from './schedule.js';

const next = (spec: string, after: string, tz?: string): string | undefined =>
  nextActivation(parseCron(spec), new Date(after), tz)?.toISOString();

test('fields, ranges, steps, lists and names', () => {
  assert.equal(next('*/15 * * * *', '2025-01-01T10:07:30Z'), '2025-01-01T10:15:00.000Z');
  assert.equal(next('0 3 * * *', '2025-01-01T03:00:00Z'), '2025-01-02T03:00:00.000Z');
  assert.equal(next('30 9 * * mon-fri', '2025-01-03T10:00:00Z'), '2025-01-06T09:30:00.000Z'); // Fri → Mon
  assert.equal(next('0 0 1 jan,jul *', '2025-02-01T00:00:00Z'), '2025-07-01T00:00:00.000Z');
  assert.equal(next('@hourly', '2025-01-01T10:00:00Z'), '2025-01-01T11:00:00.000Z');
  // Day of month and day of week both restricted: either matches (cron's rule).
  assert.equal(next('0 0 13 * 5', '2025-01-01T00:00:00Z'), '2025-01-03T00:00:00.000Z');
});

test('a time zone moves the wall clock, across daylight saving time', () => {
  assert.equal(next('0 9 * * *', '2025-01-01T00:00:00Z', 'America/New_York'), '2025-01-01T14:00:00.000Z');
  assert.equal(next('0 9 * * *', '2025-07-01T00:00:00Z', 'America/New_York'), '2025-07-01T13:00:00.000Z');
});

test('errors are worded as robfig/cron words them', () => {
  assert.throws(() => parseCron('61 * * * *'), { message: 'end of range (61) above maximum (59): 61' });
  assert.throws(() => parseCron('hello'), { message: 'expected exactly 5 fields, found 1: [hello]' });
  assert.throws(() => parseCron('@fortnightly'), { message: 'unrecognized descriptor: @fortnightly' });
  assert.throws(() => parseCron('*/0 * * * *'), { message: 'step of range should be a positive number: */0' });
  assert.throws(() => parseCron('x * * * *'), {
    message: 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax',
  });
});

test('an impossible date has no next activation', () => {
  assert.equal(next('0 0 30 2 *', '2025-01-01T00:00:00Z'), undefined);
});

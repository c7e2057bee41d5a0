import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatServiceMessage, parseServiceMessage, type ServiceMessage } from './serviceMessages.js';

test('setVariable round-trips any name and value', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), fc.string(), fc.boolean(), (name, value, sensitive) => {
      const message: ServiceMessage = { kind: 'setVariable', name, value, sensitive };
      assert.deepEqual(parseServiceMessage(formatServiceMessage(message)), { ok: true, message });
    }),
  );
});

test('progress and warning parse', () => {
  assert.deepEqual(parseServiceMessage(formatServiceMessage({ kind: 'progress', percentage: 40, message: 'half' })), {
    ok: true,
    message: { kind: 'progress', percentage: 40, message: 'half' },
  });
  assert.deepEqual(parseServiceMessage("##longshore[warning message='ZGlzayBmdWxs']"), {
    ok: true,
    message: { kind: 'warning', message: 'disk full' },
  });
});

test('ordinary lines are not service messages', () => {
  assert.equal(parseServiceMessage('hello'), undefined);
  assert.equal(parseServiceMessage(' ##longshore[warning]'), undefined);
});

test('malformed service messages say what is wrong', () => {
  for (const [line, fragment] of [
    ["##longshore[setVariable name='eA=='", 'not closed'],
    ["##longshore[setVariable value='eA==']", 'name'],
    ["##longshore[setVariable name='!!' value='eA==']", 'name'],
    ["##longshore[progress percentage='140']", 'percentage'],
    ['##longshore[explode]', 'unknown'],
  ] as const) {
    const parsed = parseServiceMessage(line);
    assert.equal(parsed?.ok, false, line);
    assert.match((parsed as { error: string }).error, new RegExp(fragment), line);
  }
});

test('random lines never throw', () => {
  fc.assert(fc.property(fc.string(), (s) => void parseServiceMessage('##longshore[' + s)));
});

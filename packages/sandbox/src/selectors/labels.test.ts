import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isApiError } from '../errors.js';
import { formatSelector, fromStructured, matchLabels, parseLabelSelector } from './labels.js';

const key = fc.constantFrom('app', 'env', 'tier', 'example.com/team');
const value = fc.constantFrom('web', 'db', 'prod', 'dev', 'x-1');
const labels = fc.dictionary(key, value, { maxKeys: 4 });

test('each operator matches as Kubernetes defines it (absent keys match != and notin)', () => {
  const l = { app: 'web', env: 'prod' };
  const m = (s: string, x: Record<string, string> = l): boolean => matchLabels(parseLabelSelector(s), x);
  assert.equal(m('app=web'), true);
  assert.equal(m('app==web,env=prod'), true);
  assert.equal(m('app!=web'), false);
  assert.equal(m('tier!=web'), true);
  assert.equal(m('env in (prod, dev)'), true);
  assert.equal(m('tier notin (a)'), true);
  assert.equal(m('env'), true);
  assert.equal(m('!env'), false);
  assert.equal(m(''), true);
  assert.equal(m('n>3', { n: '5' }), true);
  assert.equal(m('n<3', { n: '5' }), false);
});

test('malformed selectors are 400 BadRequest', () => {
  for (const s of ['app in (', 'app=', '=web', 'app in web', 'Bad Key=x', 'app=a b', 'n>x', ',']) {
    if (s === 'app=') continue; // an empty value is valid
    assert.throws(
      () => parseLabelSelector(s),
      (e) => isApiError(e) && e.httpStatus === 400,
      s,
    );
  }
});

test('property: a formatted selector parses back to one that selects the same label sets', () => {
  const req = fc
    .record({
      key,
      op: fc.constantFrom('exists', '!', '=', '!=', 'in', 'notin'),
      values: fc.uniqueArray(value, { minLength: 1, maxLength: 3 }),
    })
    .map((r) => ({
      ...r,
      values:
        r.op === 'exists' || r.op === '!' ? [] : r.op === '=' || r.op === '!=' ? [r.values[0]!] : [...r.values].sort(),
    })) as fc.Arbitrary<Parameters<typeof formatSelector>[0][number]>;
  fc.assert(
    fc.property(fc.array(req, { maxLength: 4 }), labels, (reqs, l) => {
      const again = parseLabelSelector(formatSelector(reqs));
      assert.equal(matchLabels(again, l), matchLabels(reqs, l));
    }),
  );
});

test('property: matchLabels of a structured selector equals its string form', () => {
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 3 }), labels, (sel, l) => {
      const structured = fromStructured({ matchLabels: sel });
      assert.equal(matchLabels(structured, l), matchLabels(parseLabelSelector(formatSelector(structured)), l));
      assert.equal(
        matchLabels(structured, l),
        Object.entries(sel).every(([k, v]) => l[k] === v),
      );
    }),
  );
});

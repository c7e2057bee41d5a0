import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeMasker } from './masking.js';
import { MASK } from './logLine.js';

test('masks every occurrence, longest secret first', () => {
  const mask = makeMasker(['abc', 'abcdef']);
  assert.equal(mask('x abcdef y abc'), `x ${MASK} y ${MASK}`);
});

test('multi-line secrets are masked line by line', () => {
  const mask = makeMasker(['line one\nline two']);
  assert.equal(mask('got line two'), `got ${MASK}`);
});

test('a masked text never contains the secret', () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1 }).filter((s) => !s.includes('\n') && !MASK.includes(s) && !s.includes('*')),
      fc.string(),
      fc.string(),
      (secret, a, b) => {
        assert.ok(!makeMasker([secret])(a + secret + b).includes(secret));
      },
    ),
  );
});

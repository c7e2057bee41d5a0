import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compareQuantities, formatNanos, isQuantity, parseQuantity } from './quantity.js';

describe('Kubernetes quantities', () => {
  test('suffixes, exponents and fractions', () => {
    const cases: [string, bigint][] = [
      ['0', 0n],
      ['1', 1_000_000_000n],
      ['500m', 500_000_000n],
      ['0.5', 500_000_000n],
      ['.5', 500_000_000n],
      ['1.', 1_000_000_000n],
      ['1k', 1000n * 10n ** 9n],
      ['1Ki', 1024n * 10n ** 9n],
      ['1.5Gi', 1610612736n * 10n ** 9n],
      ['1e3', 1000n * 10n ** 9n],
      ['1E-3', 1_000_000n],
      ['100n', 100n],
      ['0.1n', 1n], // below nano precision rounds up, as Kubernetes does
      ['+2', 2_000_000_000n],
    ];
    for (const [text, nanos] of cases) assert.equal(parseQuantity(text).nanos, nanos, text);
  });

  test('rejects what is not a quantity', () => {
    for (const text of ['', 'abc', '1 Gi', '1gi', '1KiB', '1e', '1e999999999', 'Gi', '1.2.3', '--1']) {
      assert.equal(isQuantity(text), false, text);
      assert.throws(() => parseQuantity(text), RangeError);
    }
  });

  test('compares across units', () => {
    assert.equal(compareQuantities('1Gi', '1073741824'), 0);
    assert.equal(compareQuantities('1G', '1Gi'), -1);
    assert.equal(compareQuantities('2', '1500m'), 1);
    assert.equal(compareQuantities('100m', '0.1'), 0);
  });

  const milli = fc.bigInt({ min: 0n, max: 10n ** 15n });

  test('property: a millicore amount written as m, as a decimal and as an exponent is the same quantity', () => {
    fc.assert(
      fc.property(milli, (m) => {
        const asMilli = `${m}m`;
        const whole = m / 1000n;
        const frac = (m % 1000n).toString().padStart(3, '0');
        const asDecimal = `${whole}.${frac}`;
        const asExponent = `${m}e-3`;
        assert.equal(compareQuantities(asMilli, asDecimal), 0);
        assert.equal(compareQuantities(asMilli, asExponent), 0);
        assert.equal(parseQuantity(asMilli).nanos, m * 1_000_000n);
      }),
    );
  });

  test('property: formatNanos round-trips and comparison is a total order consistent with the amounts', () => {
    const quantity = fc.oneof(
      milli.map((m) => `${m}m`),
      fc
        .tuple(fc.nat({ max: 100000 }), fc.constantFrom('', 'k', 'M', 'G', 'Ki', 'Mi', 'Gi', 'Ti'))
        .map(([n, s]) => `${n}${s}`),
      fc
        .tuple(fc.nat({ max: 9999 }), fc.nat({ max: 999 }), fc.constantFrom('', 'Mi', 'Gi'))
        .map(([a, b, s]) => `${a}.${b}${s}`),
    );
    fc.assert(
      fc.property(quantity, quantity, quantity, (a, b, c) => {
        const [pa, pb, pc] = [parseQuantity(a), parseQuantity(b), parseQuantity(c)];
        assert.equal(parseQuantity(formatNanos(pa.nanos)).nanos, pa.nanos);
        assert.equal(compareQuantities(a, b), -compareQuantities(b, a) || 0);
        if (compareQuantities(a, b) <= 0 && compareQuantities(b, c) <= 0) assert.ok(compareQuantities(a, c) <= 0);
        assert.equal(compareQuantities(a, b) === 0, pa.nanos === pb.nanos);
        void pc;
      }),
    );
  });
});

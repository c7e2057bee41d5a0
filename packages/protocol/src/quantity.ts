/**
 * Kubernetes resource quantities (`500m`, `2`, `1.5Gi`, `1e3`), parsed exactly. Values are held
 * as bigint nano-units: Kubernetes itself keeps at most nano precision (it rounds a finer value
 * up), and floating point would make `0.1 + 0.2`-style comparisons of caps flaky.
 */

const NUMBER = '[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+';
const SUFFIX = 'n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei';
const PATTERN = new RegExp(`^([+-]?)(${NUMBER})(?:(${SUFFIX})|[eE]([+-]?[0-9]+))?$`);

/** The same grammar for a JSON schema, without a sign: a resource amount in the API is never negative. */
export const NON_NEGATIVE_QUANTITY_PATTERN = `^[+]?(?:${NUMBER})(?:${SUFFIX}|[eE][+-]?[0-9]+)?$`;

const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/**
 * Beyond this decimal exponent a quantity is not a resource amount but a way to make bigint
 * arithmetic take forever (`1e999999999`); Kubernetes caps quantities near 2^63 as well.
 */
const MAX_EXPONENT = 40;

export interface ParsedQuantity {
  /** The text as written. */
  readonly text: string;
  /** The amount in units of 10^-9, rounded up as Kubernetes rounds. */
  readonly nanos: bigint;
}

export function isQuantity(text: string): boolean {
  return parseQuantityOrUndefined(text) !== undefined;
}

/** Throws a RangeError naming the text; callers that validate config use isQuantity first. */
export function parseQuantity(text: string): ParsedQuantity {
  const parsed = parseQuantityOrUndefined(text);
  if (parsed === undefined) throw new RangeError(`'${text}' is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 1.5Gi)`);
  return parsed;
}

function parseQuantityOrUndefined(text: string): ParsedQuantity | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const [, sign = '', number = '', suffix = '', exponentText] = m;
  const [whole = '', fraction = ''] = number.split('.');
  const digits = BigInt(`${whole}${fraction}` || '0');
  // value = digits * 10^(decimalExp - fraction.length) * 2^binaryExp, then in nanos (+9).
  let decimalExp = -fraction.length + 9;
  let binaryExp = 0;
  if (exponentText !== undefined) {
    const e = Number(exponentText);
    if (!Number.isSafeInteger(e) || Math.abs(e) > MAX_EXPONENT) return undefined;
    decimalExp += e;
  } else if (suffix in BINARY_SUFFIX) {
    binaryExp = BINARY_SUFFIX[suffix]!;
  } else {
    decimalExp += DECIMAL_SUFFIX[suffix]!;
  }
  let numerator = digits << BigInt(binaryExp);
  let denominator = 1n;
  if (decimalExp >= 0) numerator *= 10n ** BigInt(decimalExp);
  else denominator = 10n ** BigInt(-decimalExp);
  // Round up (away from zero for positives), as resource.Quantity does below nano scale.
  let nanos = (numerator + denominator - 1n) / denominator;
  if (sign === '-') nanos = -(numerator / denominator);
  return { text, nanos };
}

/** -1, 0 or 1 as a is less than, equal to or more than b (`1Gi` vs `1073741824`: 0). */
export function compareQuantities(a: string | ParsedQuantity, b: string | ParsedQuantity): -1 | 0 | 1 {
  const x = typeof a === 'string' ? parseQuantity(a).nanos : a.nanos;
  const y = typeof b === 'string' ? parseQuantity(b).nanos : b.nanos;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A canonical text for a nano amount: the largest decimal unit that keeps it whole (for messages and tests). */
export function formatNanos(nanos: bigint): string {
  if (nanos === 0n) return '0';
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  const units: [bigint, string][] = [
    [10n ** 27n, 'E'],
    [10n ** 24n, 'P'],
    [10n ** 21n, 'T'],
    [10n ** 18n, 'G'],
    [10n ** 15n, 'M'],
    [10n ** 12n, 'k'],
    [10n ** 9n, ''],
    [10n ** 6n, 'm'],
    [10n ** 3n, 'u'],
  ];
  for (const [size, suffix] of units) if (abs % size === 0n) return `${sign}${abs / size}${suffix}`;
  return `${sign}${abs}n`;
}

/** A CPU quantity in millicores (`250m` → 250, `1.5` → 1500), rounded up. */
export function cpuMillis(text: string): number {
  const nanos = parseQuantity(text).nanos;
  return Number((nanos + 999_999n) / 1_000_000n);
}

/** A memory quantity in bytes (`512Mi` → 536870912), rounded up. */
export function memoryBytes(text: string): number {
  const nanos = parseQuantity(text).nanos;
  return Number((nanos + 999_999_999n) / 1_000_000_000n);
}

/**
 * The one rule for names of environments, worker pools, targets, projects, workers and steps.
 * Names are stored in Unicode NFC, so that 'é' typed as one code point or as 'e' plus a combining
 * accent is one name, and compared by nameKey: NFC, then lower case. The store indexes nameKey
 * (see store/migrations.ts), so a clash is refused there too, whatever path a write takes.
 */

/** In code points (what JSON Schema's maxLength counts). */
export const NAME_MAX_LENGTH = 200;

/**
 * The longest path parameter the router accepts: a name of NAME_MAX_LENGTH code points where each
 * is percent-encoded as four UTF-8 bytes (`%F0%9F%98%80`). A longer one cannot be a valid name.
 */
export const MAX_PATH_PARAM_LENGTH = NAME_MAX_LENGTH * 12;

/**
 * The control characters (Unicode's Cc: C0, DEL, C1) as a character-class range. Spelled out
 * because `\p{Cc}` is ECMAScript-only: clients that read patterns from the API document
 * (Python's re, code generators, fuzzers) cannot use it.
 */
export const CONTROL_CHARACTERS = '\\u0000-\\u001f\\u007f-\\u009f';

/** No control characters anywhere; no whitespace at either end (`[\s\S]`, not `.`, so a line separator cannot hide the end). */
export const NAME_PATTERN = `^(?!\\s)(?![\\s\\S]*\\s$)[^${CONTROL_CHARACTERS}]+$`;
export const NAME_RULE = `1 to ${NAME_MAX_LENGTH} characters, no control characters, no spaces at either end`;

/** The SQLite function the store registers, so its indexes and queries use this same rule. */
export const NAME_KEY_SQL_FUNCTION = 'longshore_name_key';

export const normaliseName = (name: string): string => name.normalize('NFC');

export const nameKey = (name: string): string => name.normalize('NFC').toLowerCase();

export const sameName = (a: string, b: string): boolean => nameKey(a) === nameKey(b);

/**
 * One problem per name used twice in a list, naming both places, e.g.
 * `environments[0] and environments[3] are both named 'CaseEnv'`.
 */
export function duplicateNameProblems<T>(
  path: string,
  items: readonly T[],
  keyOf: (item: T) => string,
  nameOf: (item: T) => string,
  qualifier = '',
): string[] {
  const first = new Map<string, number>();
  const problems: string[] = [];
  items.forEach((item, i) => {
    const key = keyOf(item);
    const seen = first.get(key);
    if (seen === undefined) first.set(key, i);
    else problems.push(`${path}[${seen}] and ${path}[${i}] are both named '${nameOf(items[seen]!)}'${qualifier}`);
  });
  return problems;
}

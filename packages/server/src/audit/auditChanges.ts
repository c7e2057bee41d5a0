/** What an audit entry keeps of the objects a change touched: secrets out, and the fields that changed. */

const SECRET_KEY = /^(key|token|password|secret|credential|clientSecret|registrationToken)$/i;
const REDACTED = '[redacted]';
const MAX_CHANGES = 200;
const MAX_TEXT = 500;

/**
 * A copy without secrets: fields named like one (key, token, password, secret, credential) and
 * the value of anything marked `sensitive: true` (a variable, an output variable). The API's
 * views withhold sensitive values already; this holds for request bodies and new keys as well.
 */
export function redacted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redacted);
  if (value === null || typeof value !== 'object') return value;
  // A body that is not JSON (an uploaded archive's stream, bytes) is named, not walked: a stream's
  // fields lead back to itself, and its contents are no audit's business.
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return `[${value.constructor?.name ?? 'object'}]`;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (SECRET_KEY.test(k) && v !== null && v !== undefined) out[k] = REDACTED;
    else if (k === 'value' && record.sensitive === true && v !== null) out[k] = REDACTED;
    else out[k] = redacted(v);
  }
  return out;
}

export interface Change {
  path: string;
  before?: unknown;
  after?: unknown;
}

const clip = (v: unknown): unknown => (typeof v === 'string' && v.length > MAX_TEXT ? `${v.slice(0, MAX_TEXT)}…` : v);
const isContainer = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

/** The leaf fields that differ between two views, by path (`process.steps[1].script.body`); at most 200. */
export function changesBetween(before: unknown, after: unknown): Change[] {
  const changes: Change[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (changes.length >= MAX_CHANGES) return;
    if (isContainer(a) && isContainer(b) && Array.isArray(a) === Array.isArray(b)) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const k of keys) {
        const at = Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at);
      }
      return;
    }
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    changes.push({
      path: path || '(whole)',
      ...(a !== undefined && { before: clip(a) }),
      ...(b !== undefined && { after: clip(b) }),
    });
  };
  walk(redacted(before), redacted(after), '');
  return changes;
}

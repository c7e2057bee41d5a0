// RFC 6902 JSON Patch, as evanphx/json-patch applies it for kube-apiserver: a failed `test` or a
// missing path is an error the handler answers with 422 (apply failure) or 400 (malformed).

export type PatchErrorCode = 'MALFORMED_PATCH' | 'PATCH_APPLY_FAILED';

export class PatchError extends Error {
  override readonly name = 'PatchError';
  constructor(
    readonly code: PatchErrorCode,
    message: string,
  ) {
    super(message);
  }
}

type Json = unknown;
interface Op {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

function decodePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError('PATCH_APPLY_FAILED', `invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));
const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => typeof v === 'object' && v !== null;

function parentOf(
  doc: Json,
  parts: string[],
  path: string,
): { parent: Record<string, unknown> | unknown[]; key: string } {
  let cur: Json = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = Number(p);
      if (!/^\d+$/.test(p) || i >= cur.length)
        throw new PatchError('PATCH_APPLY_FAILED', `doc is missing path: "${path}": missing value`);
      cur = cur[i];
    } else if (isContainer(cur) && Object.prototype.hasOwnProperty.call(cur, p)) {
      cur = (cur as Record<string, unknown>)[p];
    } else {
      throw new PatchError('PATCH_APPLY_FAILED', `doc is missing path: "${path}": missing value`);
    }
  }
  if (!isContainer(cur)) throw new PatchError('PATCH_APPLY_FAILED', `doc is missing path: "${path}": missing value`);
  return { parent: cur, key: parts[parts.length - 1]! };
}

function getAt(doc: Json, path: string): Json {
  const parts = decodePointer(path);
  if (!parts.length) return doc;
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length)
      throw new PatchError('PATCH_APPLY_FAILED', `doc is missing path: "${path}": missing value`);
    return parent[i];
  }
  if (!Object.prototype.hasOwnProperty.call(parent, key))
    throw new PatchError('PATCH_APPLY_FAILED', `doc is missing path: "${path}": missing value`);
  return parent[key];
}

function remove(doc: Json, path: string): Json {
  const parts = decodePointer(path);
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length)
      throw new PatchError('PATCH_APPLY_FAILED', `unable to remove nonexistent key: ${key}: missing value`);
    return parent.splice(i, 1)[0];
  }
  if (!Object.prototype.hasOwnProperty.call(parent, key))
    throw new PatchError('PATCH_APPLY_FAILED', `unable to remove nonexistent key: ${key}: missing value`);
  const v = parent[key];
  delete parent[key];
  return v;
}

function add(doc: Json, path: string, value: Json, replaceOnly: boolean): Json {
  const parts = decodePointer(path);
  if (!parts.length) return value;
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    if (key === '-' && !replaceOnly) {
      parent.push(value);
      return doc;
    }
    const i = Number(key);
    const max = replaceOnly ? parent.length - 1 : parent.length;
    if (!/^\d+$/.test(key) || i > max)
      throw new PatchError(
        'PATCH_APPLY_FAILED',
        `unable to ${replaceOnly ? 'replace' : 'add'} at index ${key}: index out of range`,
      );
    if (replaceOnly) parent[i] = value;
    else parent.splice(i, 0, value);
    return doc;
  }
  if (replaceOnly && !Object.prototype.hasOwnProperty.call(parent, key)) {
    throw new PatchError(
      'PATCH_APPLY_FAILED',
      `replace operation does not apply: doc is missing key: ${path}: missing value`,
    );
  }
  parent[key] = value;
  return doc;
}

/** Applies the operations to a copy of `doc`. */
export function applyJsonPatch(doc: Json, ops: unknown): Json {
  if (!Array.isArray(ops))
    throw new PatchError('MALFORMED_PATCH', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let out = clone(doc);
  for (const raw of ops as unknown[]) {
    if (!isContainer(raw) || Array.isArray(raw))
      throw new PatchError('MALFORMED_PATCH', 'json: cannot unmarshal into jsonpatch.Operation');
    const op = raw as unknown as Op;
    if (typeof op.path !== 'string') throw new PatchError('MALFORMED_PATCH', `operation missing path`);
    switch (op.op) {
      case 'add':
        if (!('value' in op)) throw new PatchError('MALFORMED_PATCH', 'add operation missing value');
        out = add(out, op.path, clone(op.value), false);
        break;
      case 'replace':
        if (!('value' in op)) throw new PatchError('MALFORMED_PATCH', 'replace operation missing value');
        if (op.path === '') {
          out = clone(op.value);
          break;
        }
        out = add(out, op.path, clone(op.value), true);
        break;
      case 'remove':
        remove(out, op.path);
        break;
      case 'move': {
        if (typeof op.from !== 'string') throw new PatchError('MALFORMED_PATCH', 'move operation missing from');
        const v = remove(out, op.from);
        out = add(out, op.path, v, false);
        break;
      }
      case 'copy': {
        if (typeof op.from !== 'string') throw new PatchError('MALFORMED_PATCH', 'copy operation missing from');
        out = add(out, op.path, clone(getAt(out, op.from)), false);
        break;
      }
      case 'test': {
        let actual: Json;
        try {
          actual = getAt(out, op.path);
        } catch {
          actual = undefined;
        }
        if (JSON.stringify(canonical(actual)) !== JSON.stringify(canonical(op.value))) {
          throw new PatchError('PATCH_APPLY_FAILED', `testing value ${op.path} failed: test failed`);
        }
        break;
      }
      default:
        throw new PatchError('MALFORMED_PATCH', `Unexpected kind: ${String(op.op)}`);
    }
  }
  return out;
}

/** Key-order independent comparison for `test`. */
function canonical(v: Json): Json {
  if (Array.isArray(v)) return v.map(canonical);
  if (isContainer(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

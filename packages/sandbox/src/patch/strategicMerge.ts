// Strategic merge patch (application/strategic-merge-patch+json) as
// k8s.io/apimachinery/pkg/util/strategicpatch applies it: maps merge, lists merge by their
// merge key (patchMeta.ts), and the directives kubectl and helm send are honoured:
// $patch (replace|delete|merge), $setElementOrder/<list>, $deleteFromPrimitiveList/<list>,
// $retainKeys. Element order follows normalizeElementOrder: patch items in patch order, items
// only on the server interleaved by their original position.
import { PatchError } from './jsonPatch.js';
import { isPlainObject } from './mergePatch.js';
import { listMeta, type ListMeta } from './patchMeta.js';

type Obj = Record<string, unknown>;
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

export function applyStrategicMergePatch(original: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch))
    throw new PatchError('MALFORMED_PATCH', 'json: cannot unmarshal into Go value of type map[string]interface{}');
  return mergeMap(isPlainObject(original) ? original : {}, patch, []) ?? {};
}

function mergeMap(original: Obj, patch: Obj, path: string[]): Obj | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch) as Obj;
  if (directive !== undefined && directive !== 'merge')
    throw new PatchError('MALFORMED_PATCH', `Unknown patch type: ${String(directive)}`);
  const out: Obj = { ...original };
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith(SET_ORDER) || key.startsWith(DELETE_PRIMITIVE))
      continue;
    const childPath = [...path, key];
    if (value === null) {
      delete out[key];
      continue;
    }
    if (isPlainObject(value)) {
      const merged = mergeMap(isPlainObject(out[key]) ? (out[key] as Obj) : {}, value, childPath);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
      continue;
    }
    if (Array.isArray(value)) {
      const meta = listMeta(childPath);
      const order = patch[SET_ORDER + key];
      out[key] =
        meta.strategy === 'replace'
          ? replaceList(value)
          : mergeList(
              Array.isArray(out[key]) ? (out[key] as unknown[]) : [],
              value,
              meta,
              childPath,
              Array.isArray(order) ? order : undefined,
            );
      continue;
    }
    out[key] = value;
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_PRIMITIVE)) {
      const field = key.slice(DELETE_PRIMITIVE.length);
      if (!Array.isArray(value)) throw new PatchError('MALFORMED_PATCH', `${key} must be a list`);
      if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((x) => !value.includes(x));
    } else if (key.startsWith(SET_ORDER)) {
      const field = key.slice(SET_ORDER.length);
      if (!Array.isArray(value)) throw new PatchError('MALFORMED_PATCH', `${key} must be a list`);
      // The list itself was not in the patch: only its order changes.
      if (!(field in patch) && Array.isArray(out[field])) {
        const meta = listMeta([...path, field]);
        const cur = out[field] as unknown[];
        const [inOrder, serverOnly] = partition(cur, value, meta.key);
        out[field] = mergeSorted(serverOnly, sortBy(inOrder, value, meta.key), cur, meta.key);
      }
    }
  }
  const retain = patch.$retainKeys;
  // kubectl sends $retainKeys only where the Go type declares retainKeys (mapRetainsKeys); honour it wherever it comes.
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw new PatchError('MALFORMED_PATCH', '$retainKeys must be a list');
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  return out;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v))
    return v
      .filter((x) => !(isPlainObject(x) && x.$patch !== undefined && Object.keys(x).length === 1))
      .map(stripDirectives);
  if (!isPlainObject(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function replaceList(patch: unknown[]): unknown[] {
  return stripDirectives(patch) as unknown[];
}

const keyOf = (item: unknown, key: string | undefined): unknown =>
  key === undefined ? item : isPlainObject(item) ? item[key] : undefined;
const sameKey = (a: unknown, b: unknown, key: string | undefined): boolean =>
  key === undefined
    ? JSON.stringify(a) === JSON.stringify(b)
    : keyOf(a, key) !== undefined && keyOf(a, key) === keyOf(b, key);
const indexIn = (list: readonly unknown[], item: unknown, key: string | undefined): number =>
  list.findIndex((x) => sameKey(x, item, key));

function mergeList(
  original: unknown[],
  patch: unknown[],
  meta: ListMeta,
  path: string[],
  setOrder: unknown[] | undefined,
): unknown[] {
  if (patch.some((x) => isPlainObject(x) && x.$patch === 'replace')) return replaceList(patch);
  const key = meta.key;
  if (key === undefined) {
    // A set of scalars: union, in patch order for patch items.
    const merged = [...original];
    for (const x of patch) if (indexIn(merged, x, undefined) < 0) merged.push(x);
    const order = setOrder ?? patch;
    const [inPatch, serverOnly] = partition(merged, order, undefined);
    return mergeSorted(serverOnly, sortBy(inPatch, order, undefined), original, undefined);
  }
  let merged = [...original];
  const live: unknown[] = [];
  for (const item of patch) {
    if (!isPlainObject(item))
      throw new PatchError(
        'MALFORMED_PATCH',
        `unable to merge a non-map list item into a list with merge key "${key}"`,
      );
    if (item[key] === undefined)
      throw new PatchError(
        'MALFORMED_PATCH',
        `map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`,
      );
    if (item.$patch === 'delete') {
      merged = merged.filter((x) => !sameKey(x, item, key));
      continue;
    }
    live.push(item);
    const i = indexIn(merged, item, key);
    const base = i >= 0 && isPlainObject(merged[i]) ? (merged[i] as Obj) : {};
    const next = mergeMap(base, item, path);
    if (i >= 0) {
      if (next === undefined) merged.splice(i, 1);
      else merged[i] = next;
    } else if (next !== undefined) merged.push(next);
  }
  const order = setOrder ?? live;
  const [inPatch, serverOnly] = partition(merged, order, key);
  return mergeSorted(serverOnly, sortBy(inPatch, order, key), original, key);
}

/** Splits `list` into the items named by `order` and the rest, keeping relative order. */
function partition(
  list: readonly unknown[],
  order: readonly unknown[],
  key: string | undefined,
): [unknown[], unknown[]] {
  const a: unknown[] = [],
    b: unknown[] = [];
  for (const x of list) (indexIn(order, x, key) >= 0 ? a : b).push(x);
  return [a, b];
}

function sortBy(list: readonly unknown[], order: readonly unknown[], key: string | undefined): unknown[] {
  return [...list].sort((x, y) => indexIn(order, x, key) - indexIn(order, y, key));
}

/** strategicpatch.mergeSortedSlice: inserts server-only items (left) among patch items (right),
 *  by their position in the live object where both are known, else patch items first. */
function mergeSorted(
  left: unknown[],
  right: unknown[],
  serverOrder: readonly unknown[],
  key: string | undefined,
): unknown[] {
  const out: unknown[] = [];
  let i = 0,
    j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) {
      out.push(right[j++]);
      continue;
    }
    if (j >= right.length) {
      out.push(left[i++]);
      continue;
    }
    const li = indexIn(serverOrder, left[i], key),
      ri = indexIn(serverOrder, right[j], key);
    if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
    else out.push(right[j++]);
  }
  return out;
}

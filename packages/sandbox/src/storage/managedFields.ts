// Server-side apply's record of who set what: each apply leaves (or replaces) one managedFields
// entry for its field manager, with the fields of the applied configuration in the FieldsV1 form
// kube-apiserver writes ("f:name" for a field, "k:{...}" for an item of a list merged by keys,
// "v:..." for an item of a set, "." for an item itself). The sandbox records ownership but does
// not act on it: an apply merges like a merge patch, and conflicts between managers are not
// detected; entries of other managers are kept as they are.
import { listMeta } from '../patch/patchMeta.js';
import { isObj, now, type Obj } from './objectMeta.js';

/** What the field manager never counts as owned (the object's identity and the server's own fields). */
const IGNORED_TOP = new Set(['apiVersion', 'kind']);
const IGNORED_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'selfLink',
  'managedFields',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]);
/** Maps marked `+mapType=atomic` / `+structType=atomic` in k8s.io/api: owned as a whole. */
const ATOMIC_MAPS = new Set(['selector', 'labelSelector', 'namespaceSelector']);

/** The keys of the list merge: the schema's list-map-keys, where they differ from the strategic merge key. */
function listKeys(path: readonly string[]): { keys: string[]; defaults: Obj } | 'set' | undefined {
  const field = path[path.length - 1] ?? '';
  const meta = listMeta(path);
  if (meta.strategy !== 'merge') return undefined;
  if (!meta.key) return 'set';
  if (field === 'ports') return { keys: [meta.key, 'protocol'], defaults: { protocol: 'TCP' } };
  if (field === 'topologySpreadConstraints') return { keys: ['topologyKey', 'whenUnsatisfiable'], defaults: {} };
  return { keys: [meta.key], defaults: {} };
}

function fieldSet(value: unknown, path: readonly string[]): Obj {
  if (Array.isArray(value)) {
    const list = listKeys(path);
    if (!list) return {};
    const out: Obj = {};
    for (const item of value) {
      if (list === 'set') {
        out[`v:${JSON.stringify(item)}`] = {};
        continue;
      }
      if (!isObj(item)) continue;
      const key = Object.fromEntries(
        list.keys.sort().flatMap((k) => {
          const v = item[k] ?? list.defaults[k];
          return v === undefined ? [] : [[k, v]];
        }),
      );
      out[`k:${JSON.stringify(key)}`] = { '.': {}, ...fieldSet(item, path) };
    }
    return out;
  }
  if (!isObj(value) || ATOMIC_MAPS.has(path[path.length - 1] ?? '')) return {};
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    out[`f:${k}`] = fieldSet(v, [...path, k]);
  }
  return out;
}

/** The FieldsV1 of an applied configuration. `withStatus`: the resource has a status subresource,
 *  so an apply to the main resource does not own status. */
export function appliedFields(applied: Obj, withStatus: boolean): Obj {
  const top: Obj = {};
  for (const [k, v] of Object.entries(applied)) {
    if (IGNORED_TOP.has(k) || (withStatus && k === 'status') || v === null || v === undefined) continue;
    if (k === 'metadata' && isObj(v)) {
      const meta = Object.fromEntries(Object.entries(v).filter(([mk]) => !IGNORED_META.has(mk)));
      if (Object.keys(meta).length) top.metadata = meta;
      continue;
    }
    top[k] = v;
  }
  return fieldSet(top, []);
}

/** The object's managedFields after an apply by `manager`: its Apply entry replaced, the others kept. */
export function withApplyEntry(current: unknown, manager: string, apiVersion: string, fieldsV1: Obj): Obj[] {
  const entries = Array.isArray(current) ? (current as Obj[]) : [];
  const entry: Obj = { manager, operation: 'Apply', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1 };
  const at = entries.findIndex((e) => e.manager === manager && e.operation === 'Apply' && e.subresource === undefined);
  return at < 0 ? [...entries, entry] : entries.map((e, i) => (i === at ? entry : e));
}

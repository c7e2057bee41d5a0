/**
 * A strategic merge patch over a pod spec: the subset Kubernetes defines for PodSpec, written
 * here because the worker must not import the sandbox's patcher (the sandbox is a cluster, not a
 * library of the worker). Semantics, as kubectl and the API server apply them:
 *
 * - maps merge key by key; `null` removes a key;
 * - the lists below merge item by item by their merge key; an item `{ name: x, $patch: delete }`
 *   removes item x; `$patch: replace` as a list item makes the patch's list replace the original;
 * - every other list (tolerations, args, command, ...) is replaced whole, as for a Go field
 *   without a patchStrategy tag.
 */

type Json = unknown;
type JsonObject = Record<string, Json>;

/** Merge keys of PodSpec's lists, by field name and the name of the list holding it (patchMergeKey tags in k8s.io/api). */
function mergeKey(field: string, parent: string | undefined): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'imagePullSecrets':
    case 'resourceClaims':
    case 'schedulingGates':
      return 'name';
    case 'env':
      return isContainerList(parent) ? 'name' : undefined;
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'ports':
      return isContainerList(parent) ? 'containerPort' : undefined;
    case 'hostAliases':
      return 'ip';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    default:
      return undefined;
  }
}

function isContainerList(field: string | undefined): boolean {
  return field === 'containers' || field === 'initContainers' || field === 'ephemeralContainers';
}

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns a new spec; neither argument is modified. */
export function applyPodSpecPatch<T extends object>(spec: T, patch: Record<string, unknown>): T {
  return mergeObject(spec as JsonObject, patch, []) as T;
}

function mergeObject(original: JsonObject, patch: JsonObject, path: string[]): JsonObject {
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return structuredClone(rest);
  }
  const out: JsonObject = { ...original };
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch') continue;
    if (value === null) {
      delete out[key];
    } else if (isObject(value) && isObject(out[key])) {
      out[key] = mergeObject(out[key], value, [...path, key]);
    } else if (Array.isArray(value)) {
      const key2 = mergeKey(key, path[path.length - 1]);
      const current = out[key];
      out[key] =
        key2 !== undefined && Array.isArray(current)
          ? mergeList(current, value, key2, [...path, key])
          : stripDirectives(value);
    } else {
      out[key] = isObject(value) ? stripDirectives(value) : value;
    }
  }
  return out;
}

function mergeList(original: Json[], patch: Json[], key: string, path: string[]): Json[] {
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return stripDirectives(patch.filter((item) => !(isObject(item) && item.$patch === 'replace'))) as Json[];
  }
  const out = [...original];
  for (const item of patch) {
    if (!isObject(item) || item[key] === undefined) {
      out.push(stripDirectives(item));
      continue;
    }
    const at = out.findIndex((o) => isObject(o) && o[key] === item[key]);
    if (item.$patch === 'delete') {
      if (at !== -1) out.splice(at, 1);
    } else if (at === -1) {
      out.push(stripDirectives(item));
    } else {
      out[at] = mergeObject(out[at] as JsonObject, item, path);
    }
  }
  return out;
}

/** A value added wholesale must not carry `$patch` directives into the object. */
function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (k !== '$patch' && v !== null) out[k] = stripDirectives(v);
  return out;
}

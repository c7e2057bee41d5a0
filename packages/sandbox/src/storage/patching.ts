// PATCH: applies a JSON, merge or strategic-merge patch to the current object and stores the
// result through RestStorage.replace, so a patch gets the same defaulting, validation and
// conflict rules as a PUT. Server-side apply (application/apply-patch+yaml) is approximated as
// a merge patch that creates a missing object; it records the applied fields in managedFields
// (managedFields.ts) but does not act on ownership.
import { parse as parseYaml } from 'yaml';
import { errors } from '../errors.js';
import { applyJsonPatch, PatchError } from '../patch/jsonPatch.js';
import { applyMergePatch } from '../patch/mergePatch.js';
import { applyStrategicMergePatch } from '../patch/strategicMerge.js';
import { apiVersionOf, type ResourceDef } from '../resources/registry.js';
import { appliedFields, withApplyEntry } from './managedFields.js';
import type { Obj } from './objectMeta.js';
import type { RestStorage, WriteOptions, WriteResult } from './rest.js';

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

function parsePatchBody(contentType: string, raw: string): unknown {
  let parsed: unknown;
  try {
    parsed = contentType === PATCH_TYPES.apply ? parseYaml(raw) : JSON.parse(raw);
  } catch (err) {
    throw errors.badRequest(err instanceof Error ? err.message : String(err));
  }
  if (contentType === PATCH_TYPES.json && !Array.isArray(parsed)) {
    throw errors.badRequest(
      'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp',
    );
  }
  if (contentType !== PATCH_TYPES.json && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))) {
    throw errors.badRequest(
      'error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}',
    );
  }
  return parsed;
}

export function patchObject(
  rest: RestStorage,
  def: ResourceDef,
  namespace: string | undefined,
  name: string,
  contentType: string,
  raw: string,
  opts: WriteOptions,
): WriteResult {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (!Object.values(PATCH_TYPES).includes(type as never)) throw errors.unsupportedMediaType();
  if (type === PATCH_TYPES.strategic && def.storageOf) throw errors.unsupportedMediaType();
  const patch = parsePatchBody(type, raw);
  if (type === PATCH_TYPES.apply && !opts.subresource) {
    const manager = opts.fieldManager;
    if (!manager) {
      throw errors.invalid('PatchOptions', 'meta.k8s.io', '', [
        { type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' },
      ]);
    }
    const fieldsV1 = appliedFields(patch as Obj, def.hasStatus === true);
    opts = { ...opts, managedFields: (current) => withApplyEntry(current, manager, apiVersionOf(def), fieldsV1) };
  }
  const current = rest.find(def, namespace, name);
  if (!current) {
    if (type === PATCH_TYPES.apply && !opts.subresource) {
      const obj = { ...(patch as Obj), metadata: { ...((patch as Obj).metadata as Obj), name } };
      return rest.create(def, namespace, obj, { ...opts, fieldValidation: opts.fieldValidation ?? 'Strict' });
    }
    throw errors.notFound(def.resource, def.group, name);
  }
  const base = rest.toExternal(def, current);
  let patched: unknown;
  try {
    switch (type) {
      case PATCH_TYPES.json:
        patched = applyJsonPatch(base, patch);
        break;
      case PATCH_TYPES.strategic:
        patched = applyStrategicMergePatch(base, patch);
        break;
      default:
        patched = applyMergePatch(base, patch);
    }
  } catch (err) {
    if (err instanceof PatchError) {
      if (err.code === 'PATCH_APPLY_FAILED') {
        throw errors.patchRejected();
      }
      throw errors.badRequest(err.message);
    }
    throw err;
  }
  const { obj, warnings } = rest.decode(def, patched, opts.fieldValidation ?? 'Warn');
  const meta = obj.metadata as Obj;
  if (meta.name !== undefined && meta.name !== name) {
    throw errors.badRequest(
      `the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`,
    );
  }
  // Patches apply to the latest version: no conflict unless the patch itself names a resourceVersion.
  return rest.replace(def, current, rest.toInternal(def, obj), opts, warnings);
}

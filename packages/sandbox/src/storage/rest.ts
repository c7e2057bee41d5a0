// The generic REST storage of one resource (k8s.io/apiserver/pkg/registry/generic/registry.Store):
// create, get, list, update and patch with kube-apiserver's rules for system fields,
// resourceVersion preconditions (409), generateName, defaulting, admission and validation (422),
// dryRun and status subresources. Deletion is in deletion.ts.
import { errors, type ApiError } from '../errors.js';
import { eventFromCore, eventToCore } from '../resources/eventConversion.js';
import { applyDefaults, normalizeSecret } from '../resources/defaults.js';
import { setTemplateGeneration } from './templateGeneration.js';
import { allocateClusterIP, keepClusterIP } from '../services/clusterIPs.js';
import { apiVersionOf, storageKey, type ResourceDef } from '../resources/registry.js';
import { checkDecodable, dropFields, unknownFields } from '../validation/decode.js';
import type { FieldError } from '../validation/fieldErrors.js';
import { validateObject, validateUpdate } from '../validation/kinds.js';
import { admitNamespace, admitPod } from './admission.js';
import { OBJECT_META_FIELDS, generateName, isObj, newUid, now, type Obj } from './objectMeta.js';
import { keyOf, type ObjectStore, type Obj as Stored } from './store.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  subresource?: string;
  /** The request's fieldManager (required for server-side apply). */
  fieldManager?: string;
  /** Server-side apply: the object's managedFields from its current ones (none on create). */
  managedFields?: (current: unknown) => Obj[];
  /** Admission that needs the requesting user (RBAC escalation prevention): throws to refuse the object as it would be stored. */
  admit?: (obj: Obj) => void;
}

export interface WriteResult {
  object: Obj;
  warnings: string[];
  created?: boolean;
}

const SYSTEM_META = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'];

export class RestStorage {
  constructor(readonly store: ObjectStore) {}

  /** The stored (internal) form → what the endpoint serves (events.k8s.io/v1 view of core events). */
  toExternal(def: ResourceDef, o: Obj): Obj {
    if (def.storageOf && def.kind === 'Event') return eventFromCore(o);
    return o;
  }

  toInternal(def: ResourceDef, o: Obj): Obj {
    if (def.storageOf && def.kind === 'Event') return eventToCore(o);
    return o;
  }

  key(def: ResourceDef, namespace: string | undefined, name: string): string {
    return def.namespaced ? `${namespace ?? ''}/${name}` : name;
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): Stored {
    const o = this.store.get(storageKey(def), this.key(def, namespace, name));
    if (!o) throw errors.notFound(def.resource, def.group, name);
    return o;
  }

  find(def: ResourceDef, namespace: string | undefined, name: string): Stored | undefined {
    return this.store.get(storageKey(def), this.key(def, namespace, name));
  }

  /** Checks apiVersion/kind, decodability and unknown fields; returns a private copy and the warnings. */
  decode(def: ResourceDef, body: unknown, fieldValidation: FieldValidation = 'Warn'): { obj: Obj; warnings: string[] } {
    if (!isObj(body)) throw errors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)?.slice(0, 200)}'`);
    const obj = structuredClone(body);
    const want = apiVersionOf(def);
    if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
      throw errors.badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`,
      );
    }
    if (obj.kind !== undefined && obj.kind !== def.kind) {
      throw errors.badRequest(
        `the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`,
      );
    }
    obj.apiVersion = want;
    obj.kind = def.kind;
    checkDecodable(def.kind, obj);
    const unknown = unknownFields(def.kind, def.group, obj);
    const warnings: string[] = [];
    if (unknown.length) {
      if (fieldValidation === 'Strict') {
        throw errors.badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
      }
      if (fieldValidation === 'Warn') warnings.push(...unknown.map((f) => `unknown field "${f}"`));
      dropFields(obj, unknown);
    }
    if (!isObj(obj.metadata)) obj.metadata = {};
    return { obj, warnings };
  }

  private invalid(def: ResourceDef, name: string, errs: FieldError[]): ApiError {
    return errors.invalid(def.kind, def.group, name, errs);
  }

  create(def: ResourceDef, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): WriteResult {
    const { obj, warnings } = this.decode(def, body, opts.fieldValidation);
    const meta = obj.metadata as Obj;
    if (def.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') {
      throw errors.badRequest('resourceVersion should not be set on objects to be created');
    }
    for (const k of [...SYSTEM_META, 'resourceVersion', 'managedFields', 'selfLink']) delete meta[k];
    if ((!meta.name || meta.name === '') && typeof meta.generateName === 'string' && meta.generateName) {
      meta.name = generateName(meta.generateName);
    }
    const name = typeof meta.name === 'string' ? meta.name : '';
    admitNamespace(this.store, def, namespace, 'create');
    let internal = this.toInternal(def, obj);
    if (def.kind === 'Secret') normalizeSecret(internal);
    // The uid exists before defaulting, as kube-apiserver fills it before the strategy runs: a
    // Job's generated selector is made of it.
    (internal.metadata as Obj).uid = newUid();
    applyDefaults(def.kind, internal);
    if (def.resource === 'pods' && name) admitPod(this.store, namespace ?? '', internal, name);
    if (def.resource === 'services') allocateClusterIP(this.store, internal);
    const errs = validateObject(def.kind, def.storageOf ? obj : internal);
    if (errs.length) throw this.invalid(def, name, errs);
    opts.admit?.(internal);
    const m = internal.metadata as Obj;
    m.creationTimestamp = now();
    if (def.generation) m.generation = 1;
    if (def.kind === 'DaemonSet') setTemplateGeneration(internal);
    if (opts.managedFields) m.managedFields = opts.managedFields(undefined);
    if (def.resource === 'namespaces') delete m.deletionTimestamp;
    const key = this.key(def, namespace, name);
    if (this.store.get(storageKey(def), key)) throw errors.alreadyExists(def.resource, def.group, name);
    internal = reorderMeta(internal);
    if (opts.dryRun) return { object: this.toExternal(def, internal), warnings, created: true };
    const stored = this.store.put(storageKey(def), key, internal as Stored);
    return { object: this.toExternal(def, stored), warnings, created: true };
  }

  /** PUT: replaces the object (or its status). `expectRv` comes from the body: stale → 409. */
  update(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions = {},
  ): WriteResult {
    const { obj, warnings } = this.decode(def, body, opts.fieldValidation);
    const meta = obj.metadata as Obj;
    if (meta.name !== undefined && meta.name !== name) {
      throw errors.badRequest(
        `the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`,
      );
    }
    if (def.namespaced && meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw errors.badRequest('the namespace of the object does not match the namespace on the request');
    }
    meta.name = name;
    const current = this.find(def, namespace, name);
    if (!current) {
      if (def.allowCreateOnUpdate && !opts.subresource) {
        delete meta.resourceVersion;
        return this.create(def, namespace, obj, { ...opts, fieldValidation: 'Ignore' });
      }
      throw errors.notFound(def.resource, def.group, name);
    }
    return this.replace(def, current, this.toInternal(def, obj), opts, warnings);
  }

  /** The shared tail of update and patch: `next` is the full desired object (internal form). */
  replace(def: ResourceDef, current: Stored, next: Obj, opts: WriteOptions, warnings: string[] = []): WriteResult {
    const name = current.metadata.name;
    const meta = (isObj(next.metadata) ? next.metadata : (next.metadata = {})) as Obj;
    const rv = meta.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion)
      throw errors.conflict(def.resource, def.group, name);
    let obj: Obj;
    if (opts.subresource === 'status') {
      // Status writes change status only (and nothing of metadata): pkg/registry/*/strategy PrepareForUpdate.
      obj = { ...structuredClone(current), status: next.status };
    } else if (opts.subresource === 'finalize') {
      obj = structuredClone(current);
      ((obj.spec as Obj) ?? (obj.spec = {})).finalizers = isObj(next.spec) ? next.spec.finalizers : undefined;
    } else {
      obj = next;
      if (def.hasStatus) {
        if (current.status === undefined) delete obj.status;
        else obj.status = structuredClone(current.status);
      }
      if (def.resource === 'namespaces')
        ((obj.spec as Obj) ?? (obj.spec = {})).finalizers = (current.spec as Obj | undefined)?.finalizers;
      if (def.resource === 'services') keepClusterIP(current, obj);
    }
    const m = obj.metadata as Obj;
    for (const k of SYSTEM_META) {
      if (current.metadata[k] === undefined) delete m[k];
      else m[k] = current.metadata[k];
    }
    // Writes other than an apply keep the record of earlier applies, as kube-apiserver does when
    // the body carries no managedFields.
    const managed = opts.managedFields
      ? opts.managedFields(current.metadata.managedFields)
      : current.metadata.managedFields;
    if (managed === undefined) delete m.managedFields;
    else m.managedFields = managed;
    m.name = name;
    if (current.metadata.namespace !== undefined) m.namespace = current.metadata.namespace;
    m.resourceVersion = current.metadata.resourceVersion;
    if (def.kind === 'Secret') normalizeSecret(obj);
    applyDefaults(def.kind, obj);
    if (def.generation && JSON.stringify(specOf(obj)) !== JSON.stringify(specOf(current)))
      m.generation = Number(current.metadata.generation ?? 0) + 1;
    if (def.kind === 'DaemonSet') setTemplateGeneration(obj, current);
    if (current.metadata.deletionTimestamp && Array.isArray(m.finalizers)) {
      const added = (m.finalizers as string[]).filter(
        (f) => !((current.metadata.finalizers as string[] | undefined) ?? []).includes(f),
      );
      if (added.length) {
        throw errors.invalid(def.kind, def.group, name, [
          {
            type: 'FieldValueForbidden',
            field: 'metadata.finalizers',
            detail: `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
          },
        ]);
      }
    }
    const errs = validateUpdate(def.kind, def.storageOf ? this.toExternal(def, obj) : obj, current);
    if (errs.length) throw this.invalid(def, name, errs);
    opts.admit?.(obj);
    obj = reorderMeta(obj);
    if (JSON.stringify(obj) === JSON.stringify(current)) return { object: this.toExternal(def, current), warnings };
    if (opts.dryRun) return { object: this.toExternal(def, obj), warnings };
    const key = keyOf(current);
    if (current.metadata.deletionTimestamp && finalizersDone(def, obj)) {
      const gone = this.store.delete(storageKey(def), key)!;
      return {
        object: this.toExternal(def, {
          ...obj,
          metadata: { ...(obj.metadata as Obj), resourceVersion: gone.metadata.resourceVersion },
        }),
        warnings,
      };
    }
    const stored = this.store.put(storageKey(def), key, obj as Stored);
    return { object: this.toExternal(def, stored), warnings };
  }
}

/** What metadata.generation tracks: everything but metadata and status. */
function specOf(o: Obj): Obj {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

export function finalizersDone(def: ResourceDef, o: Obj): boolean {
  const meta = o.metadata as Obj;
  if (Array.isArray(meta.finalizers) && meta.finalizers.length) return false;
  if (def.resource === 'namespaces') {
    const f = (o.spec as Obj | undefined)?.finalizers;
    if (Array.isArray(f) && f.length) return false;
  }
  return true;
}

// ObjectMeta's `omitempty` lists and maps: Go writes none of them when empty, so a Job pod whose
// last finalizer was removed has no `finalizers` at all, not `finalizers: []`.
const OMIT_EMPTY_META = ['labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields'];
const isEmptyCollection = (v: unknown): boolean =>
  Array.isArray(v) ? v.length === 0 : isObj(v) && Object.keys(v).length === 0;

// kube-apiserver serialises Go structs, so keys come out in declaration order; clients do not
// care, but `kubectl get -o yaml` reads better (and diffs against a real cluster less) this way.
function reorderMeta(o: Obj): Obj {
  const m = o.metadata as Obj;
  const meta: Obj = {};
  for (const k of OMIT_EMPTY_META) if (isEmptyCollection(m[k])) delete m[k];
  for (const k of OBJECT_META_FIELDS) if (m[k] !== undefined) meta[k] = m[k];
  for (const k of Object.keys(m)) if (!(k in meta) && m[k] !== undefined) meta[k] = m[k];
  const { apiVersion, kind, metadata: _m, ...rest } = o;
  return { apiVersion, kind, metadata: meta, ...rest };
}

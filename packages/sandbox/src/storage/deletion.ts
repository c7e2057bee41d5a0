// DELETE and DELETE-collection with kube-apiserver's rules: preconditions, finalizers (an
// object with finalizers only gets a deletionTimestamp), propagation policies (Foreground and
// Orphan become finalizers the garbage collector honours), graceful pod deletion and namespace
// termination (the namespace controller empties it and clears spec.finalizers).
import { errors } from '../errors.js';
import { storageKey, type ResourceDef } from '../resources/registry.js';
import { admitNamespace } from './admission.js';
import { isObj, now, type Obj } from './objectMeta.js';
import { finalizersDone, type RestStorage } from './rest.js';
import { keyOf, type Obj as Stored } from './store.js';

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: string;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  /** A Status (immediate deletion) or the object (pending: finalizers, grace, or returnDeletedObject). */
  body: Obj;
  /** 200, or 202 when deletion waits on Foreground dependents (as kube-apiserver answers). */
  httpStatus: number;
}

export function parseDeleteOptions(body: unknown, query: URLSearchParams): DeleteOptions {
  const b = isObj(body) ? body : {};
  const opts: DeleteOptions = {};
  const pp = (b.propagationPolicy as string | undefined) ?? query.get('propagationPolicy') ?? undefined;
  if (pp !== undefined) {
    if (!['Orphan', 'Background', 'Foreground'].includes(pp)) {
      throw errors.invalid('DeleteOptions', 'meta.k8s.io', '', [
        {
          type: 'FieldValueNotSupported',
          field: 'propagationPolicy',
          value: pp,
          detail: 'supported values: "Foreground", "Background", "Orphan"',
        },
      ]);
    }
    opts.propagationPolicy = pp;
  }
  if (b.orphanDependents === true && !opts.propagationPolicy) opts.propagationPolicy = 'Orphan';
  if (b.orphanDependents === false && !opts.propagationPolicy) opts.propagationPolicy = 'Background';
  const gp = b.gracePeriodSeconds ?? query.get('gracePeriodSeconds') ?? undefined;
  if (gp !== undefined && gp !== null) opts.gracePeriodSeconds = Number(gp);
  if (isObj(b.preconditions)) opts.preconditions = b.preconditions as DeleteOptions['preconditions'];
  const dry = (Array.isArray(b.dryRun) ? b.dryRun : []) as string[];
  if (dry.includes('All')) opts.dryRun = true;
  return opts;
}

function statusFor(def: ResourceDef, o: Stored): Obj {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: {
      name: o.metadata.name,
      ...(def.group ? { group: def.group } : {}),
      kind: def.resource,
      uid: o.metadata.uid,
    },
  };
}

export function deleteObject(
  rest: RestStorage,
  def: ResourceDef,
  namespace: string | undefined,
  name: string,
  opts: DeleteOptions,
): DeleteResult {
  const current = rest.get(def, namespace, name);
  admitNamespace(rest.store, def, def.resource === 'namespaces' ? name : namespace, 'delete');
  const pre = opts.preconditions;
  if (pre?.uid && pre.uid !== current.metadata.uid) {
    throw errors.conflict(
      def.resource,
      def.group,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`,
    );
  }
  if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
    throw errors.conflict(
      def.resource,
      def.group,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in meta: ${current.metadata.resourceVersion}`,
    );
  }
  const key = storageKey(def);
  const finalizers = [...((current.metadata.finalizers as string[] | undefined) ?? [])];
  const policy = opts.propagationPolicy;
  if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
  if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
  const pending = finalizers.length > 0 || (def.resource === 'namespaces' && !finalizersDone(def, current));
  const external = (o: Obj): Obj => rest.toExternal(def, o);

  if (pending) {
    if (
      current.metadata.deletionTimestamp &&
      finalizers.length === ((current.metadata.finalizers as string[] | undefined) ?? []).length
    ) {
      return { body: external(current), httpStatus: 200 };
    }
    const next = structuredClone(current) as Stored;
    next.metadata.deletionTimestamp ??= now();
    next.metadata.deletionGracePeriodSeconds ??= 0;
    if (finalizers.length) next.metadata.finalizers = finalizers;
    if (def.resource === 'namespaces') ((next.status as Obj) ?? (next.status = {})).phase = 'Terminating';
    if (opts.dryRun) return { body: external(next), httpStatus: 200 };
    const stored = rest.store.put(key, keyOf(current), next);
    return { body: external(stored), httpStatus: policy === 'Foreground' ? 202 : 200 };
  }

  if (def.resource === 'pods') return deletePod(rest, def, current, opts);
  if (opts.dryRun)
    return { body: def.returnDeletedObject ? external(current) : statusFor(def, current), httpStatus: 200 };
  const gone = rest.store.delete(key, keyOf(current))!;
  return { body: def.returnDeletedObject ? external(gone) : statusFor(def, current), httpStatus: 200 };
}

/** Pods stop before they go: a pod running on a node gets deletionTimestamp = now + grace and
 *  its kubelet deletes it (grace 0) once its containers are stopped. A pod no kubelet holds
 *  (unscheduled, finished, or on a node that does not exist) goes at once, after a MODIFIED
 *  event carrying the deletionTimestamp, exactly as kube-apiserver does it. */
function deletePod(rest: RestStorage, def: ResourceDef, current: Stored, opts: DeleteOptions): DeleteResult {
  const spec = (current.spec ?? {}) as Obj;
  const phase = (current.status as Obj | undefined)?.phase;
  const node = typeof spec.nodeName === 'string' ? spec.nodeName : '';
  const held =
    node !== '' && phase !== 'Succeeded' && phase !== 'Failed' && rest.store.get('/nodes', node) !== undefined;
  let grace =
    opts.gracePeriodSeconds ??
    (current.metadata.deletionGracePeriodSeconds as number | undefined) ??
    Number(spec.terminationGracePeriodSeconds ?? 30);
  if (!held) grace = 0;
  const next = structuredClone(current) as Stored;
  next.metadata.deletionTimestamp =
    current.metadata.deletionTimestamp && grace > 0
      ? current.metadata.deletionTimestamp
      : new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  next.metadata.deletionGracePeriodSeconds = grace;
  if (opts.dryRun) return { body: rest.toExternal(def, next), httpStatus: 200 };
  const key = storageKey(def);
  if (grace > 0) {
    if (current.metadata.deletionGracePeriodSeconds === grace && current.metadata.deletionTimestamp)
      return { body: current, httpStatus: 200 };
    return { body: rest.store.put(key, keyOf(current), next), httpStatus: 200 };
  }
  rest.store.put(key, keyOf(current), next);
  const gone = rest.store.delete(key, keyOf(current))!;
  return { body: gone, httpStatus: 200 };
}

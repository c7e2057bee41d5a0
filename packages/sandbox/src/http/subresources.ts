// Subresources: status and finalize (writes that touch only part of an object), scale (a view
// of replicas as autoscaling/v1 Scale), serviceaccounts/token (TokenRequest), pods/binding
// (what a scheduler posts), pods/eviction (a delete that respects PodDisruptionBudgets),
// pods/log, and the streaming pods/exec, attach and portforward (podStreams.ts).
import { errors } from '../errors.js';
import { findResource, storageKey } from '../resources/registry.js';
import { formatSelector, fromStructured, matchLabels } from '../selectors/labels.js';
import { deleteObject, parseDeleteOptions } from '../storage/deletion.js';
import { isObj, now, type Obj } from '../storage/objectMeta.js';
import { patchObject } from '../storage/patching.js';
import type { Obj as Stored } from '../storage/store.js';
import type { ApiRequest, ServerContext } from './context.js';
import { dryRunOf, fieldValidationOf, intParam } from './query.js';
import { parseBody, sendJson } from './respond.js';
import { proxyPodLog } from './nodeProxy.js';
import { podStream } from './podStreams.js';

const success = (code: number): Obj => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code });

export async function handleSubresource(sc: ServerContext, ctx: ApiRequest): Promise<number> {
  const { info, def, url, res } = ctx;
  const sub = def.subresources.find((s) => s.name === info.subresource);
  if (!sub || info.extra.length || !info.name) throw errors.notFoundPath();
  const verb = info.verb === 'list' ? 'get' : info.verb;
  if (!sub.verbs.includes(verb)) throw errors.methodNotAllowed();
  const ns = def.namespaced ? info.namespace : undefined;
  const name = info.name;
  const q = url.searchParams;
  switch (sub.name) {
    case 'status':
    case 'finalize': {
      if (verb === 'get') {
        sendJson(res, 200, sc.rest.toExternal(def, sc.rest.get(def, ns, name)));
        return 200;
      }
      const opts = { dryRun: dryRunOf(q, verb), fieldValidation: fieldValidationOf(q, verb), subresource: sub.name };
      const r =
        verb === 'patch'
          ? patchObject(sc.rest, def, ns, name, ctx.req.headers['content-type'] ?? '', ctx.body, opts)
          : sc.rest.update(def, ns, name, await parseBody(ctx.body, ctx.req.headers['content-type']), opts);
      sendJson(res, 200, r.object);
      return 200;
    }
    case 'scale':
      return scale(sc, ctx, ns!, name, verb);
    case 'token':
      return tokenRequest(sc, ctx, ns!, name);
    case 'binding':
      return binding(sc, ctx, ns!, name);
    case 'eviction':
      return eviction(sc, ctx, ns!, name);
    case 'log':
      return podLog(sc, ctx, ns!, name);
    case 'exec':
    case 'attach':
    case 'portforward':
      return podStream(sc, ctx, ns!, name);
    default:
      throw errors.notFoundPath();
  }
}

function scaleOf(o: Stored): Obj {
  const spec = (o.spec ?? {}) as Obj;
  const status = (o.status ?? {}) as Obj;
  // A ReplicationController's selector is a plain label map, not a LabelSelector.
  const selector = o.kind === 'ReplicationController' ? { matchLabels: spec.selector } : spec.selector;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    // autoscaling/v1 ScaleSpec.replicas is omitempty: a Scale of 0 has an empty spec.
    spec: spec.replicas ? { replicas: spec.replicas } : {},
    status: { replicas: status.replicas ?? 0, selector: formatSelector(fromStructured(selector as never)) },
  };
}

async function scale(sc: ServerContext, ctx: ApiRequest, ns: string, name: string, verb: string): Promise<number> {
  const def = ctx.def;
  const current = sc.rest.get(def, ns, name);
  if (verb === 'get') {
    sendJson(ctx.res, 200, scaleOf(current));
    return 200;
  }
  let desired: Obj;
  if (verb === 'patch') {
    const { applyMergePatch } = await import('../patch/mergePatch.js');
    const { applyJsonPatch } = await import('../patch/jsonPatch.js');
    const raw = await parseBody(ctx.body, 'application/json');
    const ct = (ctx.req.headers['content-type'] ?? '').split(';')[0];
    desired = (
      ct === 'application/json-patch+json'
        ? applyJsonPatch(scaleOf(current), raw)
        : applyMergePatch(scaleOf(current), raw)
    ) as Obj;
  } else {
    desired = (await parseBody(ctx.body, ctx.req.headers['content-type'])) as Obj;
  }
  if (!isObj(desired) || !isObj(desired.spec)) throw errors.badRequest('expected a Scale with spec.replicas');
  const replicas = desired.spec.replicas ?? 0; // omitted when 0, as the Go type decodes it
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw errors.invalid('Scale', 'autoscaling', name, [
      {
        type: 'FieldValueInvalid',
        field: 'spec.replicas',
        value: replicas,
        detail: 'must be greater than or equal to 0',
      },
    ]);
  }
  const rv = isObj(desired.metadata) ? desired.metadata.resourceVersion : undefined;
  const next = structuredClone(current) as Obj;
  (next.spec as Obj).replicas = replicas;
  (next.metadata as Obj).resourceVersion = rv ?? current.metadata.resourceVersion;
  const r = sc.rest.replace(def, current, next, { dryRun: dryRunOf(ctx.url.searchParams, verb) });
  sendJson(ctx.res, 200, scaleOf(r.object as Stored));
  return 200;
}

async function tokenRequest(sc: ServerContext, ctx: ApiRequest, ns: string, name: string): Promise<number> {
  const body = await parseBody(ctx.body, ctx.req.headers['content-type']);
  const sa = sc.rest.get(ctx.def, ns, name);
  const spec = isObj(body) && isObj(body.spec) ? body.spec : {};
  const seconds = spec.expirationSeconds === undefined ? 3600 : Number(spec.expirationSeconds);
  if (!Number.isInteger(seconds) || seconds < 600 || seconds > 2 ** 32) {
    const detail =
      seconds < 600
        ? 'may not specify a duration less than 10 minutes'
        : 'may not specify a duration larger than 2^32 seconds';
    throw errors.invalid('TokenRequest', 'authentication.k8s.io', '', [
      { type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: seconds, detail },
    ]);
  }
  const audiences =
    Array.isArray(spec.audiences) && spec.audiences.length ? (spec.audiences as string[]) : [sc.tokens.issuer];
  let boundPod: { name: string; uid: string } | undefined;
  const ref = isObj(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
  if (ref?.kind === 'Pod') {
    const pod = sc.store.get('/pods', `${ns}/${String(ref.name)}`);
    if (!pod) throw errors.notFound('pods', '', String(ref.name));
    boundPod = { name: pod.metadata.name, uid: pod.metadata.uid };
  }
  const dry = dryRunOf(ctx.url.searchParams, 'create');
  const { token, claims } = sc.tokens.issue({
    namespace: ns,
    name,
    uid: sa.metadata.uid,
    audiences,
    expirationSeconds: seconds,
    boundPod,
  });
  sendJson(ctx.res, 201, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace: ns, creationTimestamp: now() },
    spec: { audiences, expirationSeconds: seconds, boundObjectRef: ref ?? null },
    status: {
      token: dry ? '' : token,
      expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  });
  return 201;
}

async function binding(sc: ServerContext, ctx: ApiRequest, ns: string, name: string): Promise<number> {
  const body = await parseBody(ctx.body, ctx.req.headers['content-type']);
  const target = isObj(body) && isObj(body.target) ? body.target : undefined;
  if (!target || typeof target.name !== 'string' || !target.name) {
    throw errors.invalid('Binding', '', name, [{ type: 'FieldValueRequired', field: 'target.name', detail: '' }]);
  }
  const pods = findResource('', 'v1', 'pods')!;
  const pod = sc.rest.get(pods, ns, name);
  const spec = (pod.spec ?? {}) as Obj;
  if (spec.nodeName)
    throw errors.conflict('pods', '', name, `pod ${name} is already assigned to node "${String(spec.nodeName)}"`);
  if (pod.metadata.deletionTimestamp)
    throw errors.conflict('pods', '', name, `pod ${name} is being deleted, cannot be assigned to a host`);
  const next = structuredClone(pod) as Stored;
  (next.spec as Obj).nodeName = target.name;
  const status = (next.status ?? (next.status = {})) as Obj;
  const conds = (Array.isArray(status.conditions) ? status.conditions : []) as Obj[];
  status.conditions = [
    ...conds.filter((c) => c.type !== 'PodScheduled'),
    { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() },
  ];
  if (!dryRunOf(ctx.url.searchParams, 'create')) sc.store.put(storageKey(pods), `${ns}/${name}`, next);
  sendJson(ctx.res, 201, success(201));
  return 201;
}

/** Eviction: refused with 429 while a PodDisruptionBudget covering the pod allows no disruption. */
async function eviction(sc: ServerContext, ctx: ApiRequest, ns: string, name: string): Promise<number> {
  const body = await parseBody(ctx.body, ctx.req.headers['content-type']);
  const pods = findResource('', 'v1', 'pods')!;
  const pod = sc.rest.get(pods, ns, name);
  const phase = (pod.status as Obj | undefined)?.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed' && phase !== 'Pending' && !pod.metadata.deletionTimestamp) {
    const labels = (pod.metadata.labels ?? {}) as Record<string, string>;
    const pdbs = sc.store
      .list('policy/poddisruptionbudgets', `${ns}/`)
      .filter(
        (p) =>
          matchLabels(fromStructured((p.spec as Obj | undefined)?.selector as never), labels) &&
          isObj((p.spec as Obj | undefined)?.selector),
      );
    if (pdbs.length > 1)
      throw errors.internal(
        'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      );
    const pdb = pdbs[0];
    if (pdb && disruptionsAllowed(sc, pdb) <= 0) {
      throw errors.tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", {
        causes: [
          {
            reason: 'DisruptionBudget',
            message: `The disruption budget ${pdb.metadata.name} needs ${desiredHealthy(sc, pdb)} healthy pods and has ${healthyPods(sc, pdb)} currently`,
            field: '',
          },
        ],
      });
    }
  }
  const opts = parseDeleteOptions(
    isObj(body) && isObj(body.deleteOptions) ? body.deleteOptions : undefined,
    new URLSearchParams(),
  );
  if (dryRunOf(ctx.url.searchParams, 'create')) opts.dryRun = true;
  deleteObject(sc.rest, pods, ns, name, opts);
  sendJson(ctx.res, 201, success(201));
  return 201;
}

function matchingPods(sc: ServerContext, pdb: Stored): Stored[] {
  const sel = fromStructured((pdb.spec as Obj | undefined)?.selector as never);
  return sc.store
    .list('/pods', `${pdb.metadata.namespace}/`)
    .filter((p) => matchLabels(sel, p.metadata.labels as Record<string, string> | undefined));
}

const isReady = (p: Stored): boolean =>
  !p.metadata.deletionTimestamp &&
  (p.status as Obj | undefined)?.phase === 'Running' &&
  (((p.status as Obj).conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True');

function healthyPods(sc: ServerContext, pdb: Stored): number {
  return matchingPods(sc, pdb).filter(isReady).length;
}

function resolve(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(String(v ?? ''));
  if (!m) return Number(v ?? 0);
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

function desiredHealthy(sc: ServerContext, pdb: Stored): number {
  const spec = (pdb.spec ?? {}) as Obj;
  const expected = matchingPods(sc, pdb).length;
  if (spec.maxUnavailable !== undefined) return Math.max(0, expected - resolve(spec.maxUnavailable, expected, true));
  return resolve(spec.minAvailable ?? 1, expected, true);
}

/** What the disruption controller would have written to status.disruptionsAllowed, computed now. */
export function disruptionsAllowed(sc: ServerContext, pdb: Stored): number {
  return Math.max(0, healthyPods(sc, pdb) - desiredHealthy(sc, pdb));
}

async function podLog(sc: ServerContext, ctx: ApiRequest, ns: string, name: string): Promise<number> {
  const pod = sc.rest.get(ctx.def, ns, name);
  const spec = (pod.spec ?? {}) as Obj;
  const containers = ((spec.containers ?? []) as Obj[]).map((c) => String(c.name));
  const q = ctx.url.searchParams;
  let container = q.get('container') ?? '';
  if (!container) {
    if (containers.length !== 1) {
      throw errors.badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`,
      );
    }
    container = containers[0]!;
  }
  if (![...containers, ...((spec.initContainers ?? []) as Obj[]).map((c) => String(c.name))].includes(container)) {
    throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
  }
  if (!spec.nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  // Without an in-process source, logs come from the node's kubelet endpoint, as in a cluster.
  if (!sc.logs) return proxyPodLog(sc, ctx, String(spec.nodeName), ns, name, container);
  const served = sc.logs?.read(
    ns,
    name,
    container,
    {
      follow: q.get('follow') === 'true',
      timestamps: q.get('timestamps') === 'true',
      sinceTime: q.get('sinceTime') ?? undefined,
      tailLines: intParam(q, 'tailLines'),
    },
    ctx.res,
  );
  if (!served)
    throw errors.badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
  return 200;
}

// Routes a resource request to storage: list/watch/get/create/update/patch/delete/
// deletecollection on a resource, or a subresource handler.
import { errors } from '../errors.js';
import { apiVersionOf, storageKey } from '../resources/registry.js';
import { matchLabels, parseLabelSelector } from '../selectors/labels.js';
import { matchFields, parseFieldSelector } from '../selectors/fields.js';
import { deleteObject, parseDeleteOptions } from '../storage/deletion.js';
import { patchObject } from '../storage/patching.js';
import type { Obj } from '../storage/store.js';
import type { WriteOptions } from '../storage/rest.js';
import { confirmNoEscalation } from '../rbac/escalation.js';
import type { ResourceDef } from '../resources/registry.js';
import type { ApiRequest, ServerContext } from './context.js';
import { boolParam, decodeContinue, dryRunOf, encodeContinue, fieldValidationOf, intParam } from './query.js';
import { parseBody, sendJson } from './respond.js';
import { handleSubresource } from './subresources.js';
import { toTable, wantsTable } from './table.js';
import { handleReview } from './reviews.js';
import { handleMetrics } from './nodeProxy.js';

function warningHeaders(warnings: string[]): Record<string, string[]> {
  return warnings.length ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {};
}

/** The selection a list or watch asked for. */
export function selection(ctx: ApiRequest): (o: Obj) => boolean {
  const q = ctx.url.searchParams;
  const labels = parseLabelSelector(q.get('labelSelector') ?? '');
  const fields = parseFieldSelector(q.get('fieldSelector') ?? '', ctx.def.kind);
  if (!labels.length && !fields.length) return () => true;
  const kind = ctx.def.storageOf ? 'Event' : ctx.def.kind;
  return (o) =>
    matchLabels(labels, o.metadata.labels as Record<string, string> | undefined) && matchFields(fields, kind, o);
}

export async function handleResource(sc: ServerContext, ctx: ApiRequest): Promise<number> {
  const { info, def, url, res } = ctx;
  const q = url.searchParams;
  if (info.subresource) return handleSubresource(sc, ctx);
  if (def.fromNodes) return handleMetrics(sc, ctx);
  if (def.createOnly) {
    if (info.verb !== 'create' || info.name) throw errors.methodNotAllowed();
    return handleReview(sc, ctx);
  }
  if (!def.verbs.includes(info.verb)) throw errors.methodNotAllowed();
  const ns = def.namespaced ? info.namespace : undefined;
  if (
    def.namespaced &&
    info.resource !== 'namespaces' &&
    info.namespace === undefined &&
    !['list', 'watch'].includes(info.verb)
  ) {
    throw errors.notFound(def.resource, def.group, info.name ?? '');
  }
  switch (info.verb) {
    case 'list':
      return list(sc, ctx, ns);
    case 'watch':
      return watch(sc, ctx, ns);
    case 'get': {
      const o = sc.rest.get(def, ns, info.name!);
      sendObject(ctx, 200, sc.rest.toExternal(def, o));
      return 200;
    }
    case 'create': {
      if (info.name) throw errors.methodNotAllowed();
      const dryRun = dryRunOf(q, 'create');
      const fv = fieldValidationOf(q, 'create');
      const body = await parseBody(ctx.body, ctx.req.headers['content-type']);
      const r = sc.rest.create(def, ns, body, { dryRun, fieldValidation: fv, ...admission(sc, ctx, def, ns) });
      sendJson(res, 201, r.object, warningHeaders(r.warnings));
      return 201;
    }
    case 'update': {
      const dryRun = dryRunOf(q, 'update');
      const fv = fieldValidationOf(q, 'update');
      const body = await parseBody(ctx.body, ctx.req.headers['content-type']);
      const r = sc.rest.update(def, ns, info.name!, body, {
        dryRun,
        fieldValidation: fv,
        ...admission(sc, ctx, def, ns),
      });
      const code = r.created ? 201 : 200;
      sendJson(res, code, r.object, warningHeaders(r.warnings));
      return code;
    }
    case 'patch': {
      const dryRun = dryRunOf(q, 'patch');
      const fv = fieldValidationOf(q, 'patch');
      const r = patchObject(sc.rest, def, ns, info.name!, ctx.req.headers['content-type'] ?? '', ctx.body, {
        dryRun,
        fieldValidation: fv,
        ...admission(sc, ctx, def, ns),
        ...(q.get('fieldManager') ? { fieldManager: q.get('fieldManager')! } : {}),
      });
      const code = r.created ? 201 : 200;
      sendJson(res, code, r.object, warningHeaders(r.warnings));
      return code;
    }
    case 'delete': {
      const body = await parseBody(ctx.body, 'application/json');
      const opts = parseDeleteOptions(body, q);
      if (dryRunOf(q, 'delete')) opts.dryRun = true;
      const r = deleteObject(sc.rest, def, ns, info.name!, opts);
      sendJson(res, r.httpStatus, r.body);
      return r.httpStatus;
    }
    case 'deletecollection': {
      const body = await parseBody(ctx.body, 'application/json');
      const opts = parseDeleteOptions(body, q);
      if (dryRunOf(q, 'deletecollection')) opts.dryRun = true;
      const match = selection(ctx);
      const items = sc.store.list(storageKey(def), ns ? `${ns}/` : '').filter(match);
      const deleted: Obj[] = [];
      for (const o of items) {
        try {
          deleted.push(deleteObject(sc.rest, def, ns, o.metadata.name, opts).body as Obj);
        } catch {
          /* gone meanwhile */
        }
      }
      sendJson(res, 200, {
        kind: `${def.kind}List`,
        apiVersion: apiVersionOf(def),
        metadata: { resourceVersion: String(sc.store.revision) },
        items: deleted,
      });
      return 200;
    }
    default:
      throw errors.methodNotAllowed();
  }
}

/** Admission that needs the user: writing RBAC objects must not grant what the writer lacks. */
function admission(sc: ServerContext, ctx: ApiRequest, def: ResourceDef, ns: string | undefined): WriteOptions {
  if (def.group !== 'rbac.authorization.k8s.io') return {};
  return { admit: (obj) => confirmNoEscalation(sc.rbac, ctx.user, def.resource, ns, obj) };
}

function sendObject(ctx: ApiRequest, code: number, o: Record<string, unknown>): void {
  if (wantsTable(ctx.req.headers.accept)) {
    sendJson(
      ctx.res,
      code,
      toTable(
        ctx.def.storageOf ? 'events.k8s.io/Event' : ctx.def.kind,
        [o],
        { resourceVersion: (o.metadata as Obj['metadata']).resourceVersion },
        { includeObject: ctx.url.searchParams.get('includeObject') ?? undefined },
      ),
    );
    return;
  }
  sendJson(ctx.res, code, o);
}

function list(sc: ServerContext, ctx: ApiRequest, ns: string | undefined): number {
  const { def, url } = ctx;
  const q = url.searchParams;
  const match = selection(ctx);
  const limit = intParam(q, 'limit');
  const cont = q.get('continue');
  const rvParam = q.get('resourceVersion') ?? '';
  const rvMatch = q.get('resourceVersionMatch') ?? '';
  if (rvMatch && !['Exact', 'NotOlderThan'].includes(rvMatch)) {
    throw errors.invalid('ListOptions', 'meta.k8s.io', '', [
      {
        type: 'FieldValueNotSupported',
        field: 'resourceVersionMatch',
        value: rvMatch,
        detail: 'supported values: "Exact", "NotOlderThan"',
      },
    ]);
  }
  if (rvParam && rvParam !== '0' && !/^\d+$/.test(rvParam))
    throw errors.badRequest(`invalid resource version: ${rvParam}`);
  const prefix = ns !== undefined ? `${ns}/` : '';
  let items: Obj[];
  let listRv = sc.store.revision;
  let start = '';
  if (cont) {
    const c = decodeContinue(cont);
    start = c.start;
    const snap = sc.store.snapshotAt(storageKey(def), c.rv, prefix);
    if (snap === 'expired') {
      throw errors.expired(
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
      );
    }
    items = snap;
    listRv = c.rv;
  } else if (rvMatch === 'Exact' && rvParam) {
    const snap = sc.store.snapshotAt(storageKey(def), Number(rvParam), prefix);
    if (snap === 'expired')
      throw errors.expired(`too old resource version: ${rvParam} (${sc.store.compactedRevision - 1})`);
    items = snap;
    listRv = Number(rvParam);
  } else {
    items = sc.store.list(storageKey(def), prefix);
  }
  const keyOf = (o: Obj): string =>
    o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
  if (start) items = items.filter((o) => keyOf(o) >= start);
  const filtering =
    (q.has('labelSelector') && q.get('labelSelector') !== '') ||
    (q.has('fieldSelector') && q.get('fieldSelector') !== '');
  const selected: Obj[] = [];
  let more = false;
  let remaining = 0;
  for (let i = 0; i < items.length; i++) {
    const o = items[i]!;
    if (!match(o)) continue;
    if (limit !== undefined && limit > 0 && selected.length >= limit) {
      more = true;
      remaining = items.length - i;
      break;
    }
    selected.push(o);
  }
  const meta: Obj['metadata'] | Record<string, unknown> = { resourceVersion: String(listRv) };
  if (more) {
    (meta as Record<string, unknown>).continue = encodeContinue(listRv, keyOf(selected[selected.length - 1]!));
    if (!filtering) (meta as Record<string, unknown>).remainingItemCount = remaining;
  }
  const external = selected.map((o) => sc.rest.toExternal(def, o));
  if (wantsTable(ctx.req.headers.accept)) {
    sendJson(
      ctx.res,
      200,
      toTable(def.storageOf ? 'events.k8s.io/Event' : def.kind, external, meta as Record<string, unknown>, {
        includeObject: q.get('includeObject') ?? undefined,
      }),
    );
    return 200;
  }
  sendJson(ctx.res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: meta, items: external });
  return 200;
}

function watch(sc: ServerContext, ctx: ApiRequest, ns: string | undefined): number {
  const { def, url, info } = ctx;
  const q = url.searchParams;
  const sel = selection(ctx);
  const byName = info.name;
  const match = byName ? (o: Obj) => o.metadata.name === byName && sel(o) : sel;
  const rv = q.get('resourceVersion') ?? '';
  if (rv && !/^\d+$/.test(rv)) throw errors.badRequest(`invalid resource version: ${rv}`);
  const timeout = intParam(q, 'timeoutSeconds');
  const table = wantsTable(ctx.req.headers.accept);
  let first = true;
  sc.watches.serve(ctx.res, {
    storage: storageKey(def),
    kind: def.kind,
    apiVersion: apiVersionOf(def),
    filter: { namespace: ns, matches: match },
    resourceVersion: rv,
    allowBookmarks: boolParam(q, 'allowWatchBookmarks'),
    sendInitialEvents: boolParam(q, 'sendInitialEvents'),
    bookmarkIntervalMs: sc.bookmarkIntervalMs,
    timeoutMs: timeout !== undefined ? timeout * 1000 : undefined,
    cacheable: !table,
    render: (o) => {
      const ext = sc.rest.toExternal(def, o);
      if (!table) return ext;
      const t = toTable(
        def.kind,
        [ext],
        { resourceVersion: o.metadata.resourceVersion },
        { includeObject: q.get('includeObject') ?? undefined, noHeaders: !first },
      );
      first = false;
      return t;
    },
  });
  return 200;
}

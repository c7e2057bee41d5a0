// Normalizers: turn one HTTP answer into the flat record the differential compares. Each one is
// explicit about what it keeps. Values that legitimately differ between two correct servers
// (uids, timestamps, resourceVersion numbers, generated name suffixes, token bytes) are reduced
// to presence, equality or ordering; everything a client branches on is kept verbatim.
import type { ApiResponse, WatchResult } from './cluster.js';

/** One compared value per key: 'http', 'kind', 'reason', 'metadata.name', 'items', ... */
export type Fields = Record<string, unknown>;
type Obj = Record<string, unknown>;

/** Objects a Kubernetes control plane creates in every namespace on its own (the reference runs no
 *  controller-manager; the sandbox may). Lists and watches drop them so only our writes count. */
export const CONTROLLER_MADE_NAMES: ReadonlySet<string> = new Set(['kube-root-ca.crt']);

/** Status reasons whose message is a fixed formula clients print verbatim (kubectl's "Error from
 *  server (NotFound): configmaps "x" not found"). Invalid/BadRequest/Expired messages carry Go
 *  decoder or regex text, so for those only reason, details and causes are compared. */
const MESSAGE_REASONS = new Set(['NotFound', 'AlreadyExists', 'Conflict', 'Forbidden', 'Unauthorized']);

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isStatus(body: unknown): body is Obj {
  return isObj(body) && body.kind === 'Status';
}

/** Reads 'a.b.c'; 'a.items[].name' maps over an array. Label keys are only read as whole maps. */
export function getPath(value: unknown, path: string): unknown {
  let cur: unknown = value;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.endsWith('[]')) {
      const arr = isObj(cur) ? cur[part.slice(0, -2)] : undefined;
      if (!Array.isArray(arr)) return undefined;
      const rest = parts.slice(i + 1).join('.');
      return rest ? arr.map((x) => getPath(x, rest)) : arr;
    }
    cur = isObj(cur) ? cur[part] : undefined;
  }
  return cur;
}

/** resourceVersions are opaque to clients except for equality ("did it change?") and, within
 *  one server, their order (watch resume). So each distinct value becomes rvN, numbered in the
 *  order first seen within a step, with whether it was newer than every value seen before. */
export class RvTracker {
  private readonly seen = new Map<string, number>();
  private max: bigint | undefined;

  token(rv: unknown): string {
    if (typeof rv !== 'string' || rv === '') return 'absent';
    const known = this.seen.get(rv);
    if (known !== undefined) return `rv${known}`;
    const n = this.seen.size + 1;
    this.seen.set(rv, n);
    if (!/^\d+$/.test(rv)) return `rv${n}:new:opaque`;
    const v = BigInt(rv);
    const newest = this.max === undefined || v > this.max;
    if (newest) this.max = v;
    return `rv${n}:new:${newest ? 'newest' : 'older'}`;
  }

  /** A list's resourceVersion is the whole store's revision, bumped by writes anywhere in the
   *  cluster, so only whether it is at least as new as every object version seen is compared. */
  listToken(rv: unknown): string {
    if (typeof rv !== 'string' || rv === '') return 'absent';
    if (!/^\d+$/.test(rv)) return 'present:opaque';
    return this.max === undefined || BigInt(rv) >= this.max ? 'present:current' : 'present:behind';
  }
}

export interface NormalizeContext {
  rv: RvTracker;
}
export type Normalizer = (res: ApiResponse, ctx: NormalizeContext) => Fields;

/** Status answers (errors, and delete's Success): reason, code, details and causes; the message
 *  only for MESSAGE_REASONS. Causes are compared as sorted "field|reason" (their order is not
 *  a contract). */
export function statusFields(res: ApiResponse): Fields {
  const b = res.body as Obj;
  const details = isObj(b.details) ? b.details : {};
  const f: Fields = { http: res.status, kind: 'Status', status: b.status, reason: b.reason, code: b.code };
  if (typeof b.reason === 'string' && MESSAGE_REASONS.has(b.reason)) f.message = b.message;
  f['details.name'] = details.name;
  f['details.kind'] = details.kind;
  f['details.group'] = details.group;
  if (Array.isArray(details.causes)) {
    f['details.causes'] = (details.causes as Obj[]).map((c) => `${String(c.field)}|${String(c.reason)}`).sort();
  }
  return f;
}

/** A pick is a path; 'path?' records only presence; 'path#sorted' sorts an array first. */
function pick(body: unknown, picks: readonly string[], f: Fields): void {
  for (const p of picks) {
    if (p.endsWith('?')) {
      f[p] = getPath(body, p.slice(0, -1)) !== undefined;
      continue;
    }
    if (p.endsWith('#sorted')) {
      const v = getPath(body, p.slice(0, -'#sorted'.length));
      f[p] = Array.isArray(v) ? [...(v as unknown[])].map(String).sort() : v;
      continue;
    }
    f[p] = getPath(body, p);
  }
}

const GENERATED = /^(.*-)[a-z0-9]{5}$/;

/** A single object: kind, name (a generated suffix reduced to its shape), namespace, labels,
 *  resourceVersion token, uid/creationTimestamp presence, plus the listed picks. */
export function object(...picks: string[]): Normalizer {
  return (res, ctx) => {
    if (isStatus(res.body)) return statusFields(res);
    const b = res.body as Obj;
    const m = isObj(b.metadata) ? b.metadata : {};
    let name = m.name;
    if (typeof m.generateName === 'string' && typeof name === 'string' && name.startsWith(m.generateName)) {
      name = GENERATED.test(name) ? `${m.generateName}<5 random>` : `${m.generateName}<unexpected suffix: ${name}>`;
    }
    const f: Fields = {
      http: res.status,
      kind: b.kind,
      'metadata.name': name,
      'metadata.generateName': m.generateName,
      'metadata.namespace': m.namespace,
      'metadata.labels': m.labels,
      'metadata.resourceVersion': ctx.rv.token(m.resourceVersion),
      'metadata.uid?': m.uid !== undefined,
      'metadata.creationTimestamp?': m.creationTimestamp !== undefined,
    };
    pick(b, picks, f);
    return f;
  };
}

/** Only the picks (and kind): reviews and token requests, whose metadata clients ignore. */
export function fields(...picks: string[]): Normalizer {
  return (res) => {
    if (isStatus(res.body)) return statusFields(res);
    const f: Fields = { http: res.status, kind: (res.body as Obj).kind };
    pick(res.body, picks, f);
    return f;
  };
}

/** Values generated from the object's own uid (a Job's selector and pod template labels) become
 *  '{uid}', so the generated shape is compared and not the random value. */
export function ownUid(n: Normalizer): Normalizer {
  return (res, ctx) => {
    const uid = getPath(res.body, 'metadata.uid');
    const f = n(res, ctx);
    return typeof uid === 'string' && uid !== '' ? (substituteNames(f, new Map([[uid, '{uid}']])) as Fields) : f;
  };
}

/** A meta.k8s.io Table (kubectl get): every column definition ("name|type|format|priority|
 *  description"), each row's cells and row object kind. Cells of the columns in `skip` (ages, and
 *  what only a controller writes) become '<skipped>'; row objects' uids become '{uid}'. */
export function table(...skip: string[]): Normalizer {
  return (res) => {
    if (isStatus(res.body)) return statusFields(res);
    const b = res.body as Obj;
    const cols = Array.isArray(b.columnDefinitions) ? (b.columnDefinitions as Obj[]) : [];
    const rows = Array.isArray(b.rows) ? (b.rows as Obj[]) : [];
    const uids = new Map<string, string>();
    for (const r of rows) {
      const uid = getPath(r, 'object.metadata.uid');
      if (typeof uid === 'string' && uid !== '') uids.set(uid, '{uid}');
    }
    const f: Fields = {
      http: res.status,
      kind: b.kind,
      columnDefinitions: cols.map((c) =>
        [c.name, c.type, c.format, c.priority, c.description].map((v) => String(v ?? '')).join('|'),
      ),
      rows: rows.map((r) =>
        (Array.isArray(r.cells) ? (r.cells as unknown[]) : []).map((cell, i) =>
          skip.includes(String(cols[i]?.name)) ? '<skipped>' : cell,
        ),
      ),
      'rows[].object.kind': rows.map((r) => getPath(r, 'object.kind')),
    };
    return substituteNames(f, uids) as Fields;
  };
}

/** A list: kind, item names in order, continue token presence, remainingItemCount and the
 *  list resourceVersion's order (see RvTracker.listToken). */
export function list(): Normalizer {
  return (res, ctx) => {
    if (isStatus(res.body)) return statusFields(res);
    const b = res.body as Obj;
    const m = isObj(b.metadata) ? b.metadata : {};
    const items = Array.isArray(b.items) ? (b.items as Obj[]) : [];
    return {
      http: res.status,
      kind: b.kind,
      items: items.map((i) => getPath(i, 'metadata.name')).filter((n) => !CONTROLLER_MADE_NAMES.has(String(n))),
      'metadata.continue?': typeof m.continue === 'string' && m.continue !== '',
      'metadata.remainingItemCount': m.remainingItemCount,
      'metadata.resourceVersion': ctx.rv.listToken(m.resourceVersion),
    };
  };
}

/** Only the Status fields (or just the HTTP code and kind when the answer is an object). */
export function status(): Normalizer {
  return (res) =>
    isStatus(res.body) ? statusFields(res) : { http: res.status, kind: (res.body as Obj | undefined)?.kind };
}

/** A watch: HTTP status, each event as "TYPE name rvToken" (an ERROR as "ERROR reason code"),
 *  and why reading stopped. */
export function watchFields(w: WatchResult, ctx: NormalizeContext): Fields {
  if (w.status !== 200 && isStatus(w.body)) return statusFields({ status: w.status, body: w.body, headers: {} });
  const events = w.events
    .filter((e) => !CONTROLLER_MADE_NAMES.has(String(getPath(e.object, 'metadata.name'))))
    .map((e) =>
      e.type === 'ERROR'
        ? `ERROR ${String(e.object.reason)} ${String(e.object.code)}`
        : `${e.type} ${String(getPath(e.object, 'metadata.name'))} ${ctx.rv.token(getPath(e.object, 'metadata.resourceVersion'))}`,
    );
  return { http: w.status, events, ended: w.ended };
}

/** Replaces the run's namespace names in every string (messages, namespaces, usernames) by
 *  placeholders, so two runs with different name prefixes are comparable. Longest name first. */
export function substituteNames(value: unknown, names: ReadonlyMap<string, string>): unknown {
  const pairs = [...names].sort((a, b) => b[0].length - a[0].length);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return pairs.reduce((s, [from, to]) => s.split(from).join(to), v);
    if (Array.isArray(v)) return v.map(walk);
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [walk(k) as string, walk(x)]));
    return v;
  };
  return walk(value);
}

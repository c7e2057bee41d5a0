// The one thing the differential battery knows about a cluster: where it is, how to trust it and
// an admin token. Both the reference kube-apiserver and the sandbox are reached only through this,
// over real HTTPS, so the battery sees exactly what an unmodified client would.
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

export interface ClusterEndpoint {
  /** https://host:port, no trailing slash. */
  server: string;
  /** PEM of the CA that signed the serving certificate. */
  caPem: string;
  /** Bearer token of a user in group system:masters. */
  adminToken: string;
  /** Optional: make the server forget the history of writes made so far (etcd compaction for the
   *  reference; dropping the event log for the sandbox), so that a watch from an older
   *  resourceVersion answers 410 Gone without waiting for a periodic compaction. */
  compactHistory?: () => Promise<void>;
}

export type ClusterErrorCode = 'TIMEOUT' | 'NETWORK' | 'BAD_WATCH_STREAM';

export class ClusterRequestError extends Error {
  override readonly name = 'ClusterRequestError';
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RequestOptions {
  method?: string;
  /** Path and query, e.g. /api/v1/namespaces/x/pods?limit=2 */
  path: string;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  /** Default application/json when there is a body. Patches set their own. */
  contentType?: string;
  /** Default the endpoint's admin token; null sends no Authorization header (anonymous). */
  token?: string | null;
  /** Default application/json; e.g. kubectl's `application/json;as=Table;v=v1;g=meta.k8s.io`. */
  accept?: string;
  /** Default 10 000 ms for the whole exchange. */
  timeoutMs?: number;
  /** More request headers (an Upgrade, to see what is refused before a protocol switch). */
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  /** Parsed JSON when the body is JSON, else the text. */
  body: unknown;
  headers: IncomingHttpHeaders;
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** One request; resolves for every HTTP status (4xx/5xx are answers to compare, not errors). */
export function apiRequest(ep: ClusterEndpoint, opts: RequestOptions): Promise<ApiResponse> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json', ...opts.headers };
  const token = opts.token === undefined ? ep.adminToken : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (opts.body !== undefined) {
    payload = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['Content-Type'] = opts.contentType ?? 'application/json';
  }
  const url = ep.server + opts.path;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: opts.method ?? 'GET', ca: ep.caPem, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: parseBody(text), headers: res.headers });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(
          err instanceof ClusterRequestError
            ? err
            : new ClusterRequestError('NETWORK', `${opts.method ?? 'GET'} ${url}: ${err.message}`, { cause: err }),
        );
      });
    });
    // A wall-clock timer (not the socket idle timeout) so a server that trickles bytes still ends.
    const timer = setTimeout(
      () =>
        req.destroy(
          new ClusterRequestError('TIMEOUT', `${opts.method ?? 'GET'} ${url}: no answer within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(
        err instanceof ClusterRequestError
          ? err
          : new ClusterRequestError('NETWORK', `${opts.method ?? 'GET'} ${url}: ${err.message}`, { cause: err }),
      );
    });
    req.end(payload);
  });
}

export interface WatchEvent {
  type: string;
  object: Record<string, unknown>;
}

export interface WatchOptions {
  /** Path with watch=1 and the selectors / resourceVersion in the query. */
  path: string;
  token?: string | null;
  /** Stop reading (and close the stream) once this returns true. */
  until?: (events: WatchEvent[]) => boolean;
  /** Close the stream after this long even if `until` never held. Default 5 000 ms. */
  timeLimitMs?: number;
}

export interface WatchResult {
  status: number;
  events: WatchEvent[];
  /** Body of a non-200 answer (a Status), else undefined. */
  body?: unknown;
  /** Why reading stopped: the predicate held, the time limit passed, or the server closed it. */
  ended: 'until' | 'time-limit' | 'server-closed';
}

export interface WatchHandle {
  /** Resolves once the response head arrived, i.e. the watch is established on the server. */
  started: Promise<number>;
  done: Promise<WatchResult>;
}

/** Opens a watch: one JSON event ({type, object}) per line over a chunked response. Line framing
 *  is what kube-apiserver writes and what @kubernetes/client-node's watch requires. */
export function openWatch(ep: ClusterEndpoint, opts: WatchOptions): WatchHandle {
  const limit = opts.timeLimitMs ?? 5_000;
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = opts.token === undefined ? ep.adminToken : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let markStarted!: (status: number) => void;
  const started = new Promise<number>((r) => {
    markStarted = r;
  });
  const done = new Promise<WatchResult>((resolve, reject) => {
    const events: WatchEvent[] = [];
    let status = 0; // set when the response head arrives
    let buf = '';
    let settled = false;
    const finish = (r: WatchResult | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      markStarted(status);
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const req = httpsRequest(ep.server + opts.path, { method: 'GET', ca: ep.caPem, headers }, (res) => {
      status = res.statusCode ?? 0;
      markStarted(status);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        if (status !== 200) return; // an error answer is one Status document, parsed at the end
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          let ev: WatchEvent;
          try {
            ev = JSON.parse(line) as WatchEvent;
          } catch (err) {
            finish(
              new ClusterRequestError(
                'BAD_WATCH_STREAM',
                `watch ${opts.path}: not a JSON event: ${line.slice(0, 200)}`,
                { cause: err },
              ),
            );
            return;
          }
          events.push(ev);
          if (opts.until?.(events)) {
            finish({ status, events, ended: 'until' });
            return;
          }
        }
      });
      const closed = (): void =>
        finish(
          status === 200
            ? { status, events, ended: 'server-closed' }
            : { status, events, body: parseBody(buf), ended: 'server-closed' },
        );
      res.on('end', closed);
      res.on('error', closed); // a reset mid-stream: report what was read
    });
    // A time limit, not an error: "no (more) events within N ms" is an answer the battery compares.
    const timer = setTimeout(() => finish({ status, events, ended: 'time-limit' }), limit);
    req.on('error', (err) =>
      finish(new ClusterRequestError('NETWORK', `watch ${opts.path}: ${err.message}`, { cause: err })),
    );
    req.end();
  });
  return { started, done };
}

/** Watch to completion (see openWatch). */
export function watch(ep: ClusterEndpoint, opts: WatchOptions): Promise<WatchResult> {
  return openWatch(ep, opts).done;
}

/** kube-apiserver flags the battery needs from the reference: ConfigMaps skip the watch cache, so
 *  a watch from a compacted resourceVersion reads etcd and answers 410 (the cache would still
 *  serve it from memory). Everything else keeps the defaults. */
export const REFERENCE_APISERVER_ARGS: readonly string[] = ['--watch-cache-sizes=configmaps#0'];

/** The reference cluster as an endpoint; compactHistory() compacts etcd to its current revision
 *  through etcd's v3 JSON gateway (plain HTTP on loopback). */
export function referenceEndpoint(cluster: {
  server: string;
  caPem: string;
  adminToken: string;
  etcdServer: string;
}): ClusterEndpoint {
  const etcd = async (path: string, body: object): Promise<Record<string, unknown>> => {
    const res = await fetch(cluster.etcdServer + path, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new ClusterRequestError('NETWORK', `etcd ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    server: cluster.server,
    caPem: cluster.caPem,
    adminToken: cluster.adminToken,
    async compactHistory() {
      const range = await etcd('/v3/kv/range', { key: Buffer.from('/').toString('base64') });
      const revision = (range.header as { revision?: string } | undefined)?.revision;
      if (!revision)
        throw new ClusterRequestError('NETWORK', `etcd range answered no revision: ${JSON.stringify(range)}`);
      await etcd('/v3/kv/compaction', { revision, physical: true });
    },
  };
}

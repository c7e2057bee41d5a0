// One watch: a chunked HTTP answer carrying one JSON event per line, as kube-apiserver writes
// it and as client-go's and @kubernetes/client-node's decoders require. It replays history from
// the requested resourceVersion (or the current state as ADDED for "0"/unset), then streams live
// writes; a resourceVersion older than the kept history gets one ERROR event with a 410 Expired
// Status. Events that move an object into or out of the selection become ADDED or DELETED.
import type { ServerResponse } from 'node:http';
import type { ObjectStore, Obj, StoredEvent } from '../storage/store.js';

export interface WatchFilter {
  /** Only objects in this namespace (namespaced resources). */
  namespace?: string;
  matches(o: Obj): boolean;
}

export interface WatchRequest {
  storage: string;
  kind: string;
  apiVersion: string;
  filter: WatchFilter;
  /** The client's resourceVersion ('' / '0' start from current state). */
  resourceVersion: string;
  allowBookmarks: boolean;
  sendInitialEvents?: boolean;
  bookmarkIntervalMs: number;
  timeoutMs?: number;
  /** External form of a stored object (e.g. events.k8s.io view, or a Table row). */
  render(o: Obj, type: string): unknown;
  /** True when render() depends only on the object (shareable serialization). */
  cacheable: boolean;
}

const serialized = new WeakMap<Obj, Map<string, string>>();

export class WatchRegistry {
  private readonly open = new Set<() => void>();
  constructor(private readonly store: ObjectStore) {}

  get size(): number {
    return this.open.size;
  }

  /** Ends every open watch (server stop). */
  closeAll(): void {
    for (const close of [...this.open]) close();
  }

  serve(res: ServerResponse, w: WatchRequest): void {
    const store = this.store;
    let lastRev = 0;
    let closed = false;
    const buffered: StoredEvent[] = [];
    let live = false;
    const write = (line: string): void => {
      if (closed) return;
      res.write(line);
      // A watcher that does not read is cut off, as kube-apiserver drops a blocked watcher.
      if (res.writableLength > 32 * 1024 * 1024) close();
    };
    const encode = (type: string, o: Obj): string => {
      if (!w.cacheable) return `{"type":"${type}","object":${JSON.stringify(w.render(o, type))}}\n`;
      let m = serialized.get(o);
      if (!m) {
        m = new Map();
        serialized.set(o, m);
      }
      const k = w.apiVersion;
      let s = m.get(k);
      if (s === undefined) {
        s = JSON.stringify(w.render(o, type));
        m.set(k, s);
      }
      return `{"type":"${type}","object":${s}}\n`;
    };
    const inScope = (o: Obj): boolean =>
      (w.filter.namespace === undefined || o.metadata.namespace === w.filter.namespace) && w.filter.matches(o);
    const deliver = (ev: StoredEvent): void => {
      if (ev.rev <= lastRev) return;
      lastRev = ev.rev;
      const now = inScope(ev.object);
      const before = ev.prev !== undefined && ev.type !== 'ADDED' && inScope(ev.prev);
      if (ev.type === 'DELETED') {
        if (now) write(encode('DELETED', ev.object));
        return;
      }
      if (ev.type === 'ADDED') {
        if (now) write(encode('ADDED', ev.object));
        return;
      }
      if (now && before) write(encode('MODIFIED', ev.object));
      else if (now) write(encode('ADDED', ev.object));
      else if (before)
        write(
          encode('DELETED', {
            ...ev.prev!,
            metadata: { ...ev.prev!.metadata, resourceVersion: ev.object.metadata.resourceVersion },
          }),
        );
    };
    const unsubscribe = store.subscribe(w.storage, (ev) => {
      if (live) deliver(ev);
      else buffered.push(ev);
    });
    const bookmark = (annotations?: Record<string, string>): void => {
      write(
        `${JSON.stringify({ type: 'BOOKMARK', object: { kind: w.kind, apiVersion: w.apiVersion, metadata: { resourceVersion: String(store.revision), ...(annotations ? { annotations } : {}) } } })}\n`,
      );
    };
    const timers: NodeJS.Timeout[] = [];
    const close = (): void => {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.open.delete(close);
      if (!res.writableEnded) res.end();
    };
    this.open.add(close);
    res.on('close', close);

    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
    });
    // Send the head now: clients treat it as "the watch is established" before any event.
    res.flushHeaders();
    const rv = w.resourceVersion;
    if (rv === '' || rv === '0' || w.sendInitialEvents) {
      const start = store.revision;
      const prefix = w.filter.namespace !== undefined ? `${w.filter.namespace}/` : '';
      for (const o of store.list(w.storage, prefix)) if (w.filter.matches(o)) write(encode('ADDED', o));
      lastRev = start;
      if (w.sendInitialEvents && w.allowBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      const from = Number(rv);
      const history = store.eventsSince(w.storage, from);
      if (history === 'expired') {
        write(
          `${JSON.stringify({
            type: 'ERROR',
            object: {
              kind: 'Status',
              apiVersion: 'v1',
              metadata: {},
              status: 'Failure',
              message: `too old resource version: ${rv} (${store.compactedRevision - 1})`,
              reason: 'Expired',
              code: 410,
            },
          })}\n`,
        );
        close();
        return;
      }
      lastRev = from;
      for (const ev of history) deliver(ev);
      lastRev = Math.max(lastRev, from);
    }
    live = true;
    for (const ev of buffered.splice(0)) deliver(ev);
    if (w.allowBookmarks) {
      const tick = (): void => {
        bookmark();
        timers[0] = setTimeout(tick, w.bookmarkIntervalMs);
        timers[0].unref();
      };
      timers[0] = setTimeout(tick, w.bookmarkIntervalMs);
      timers[0].unref();
    }
    if (w.timeoutMs !== undefined) {
      const t = setTimeout(close, w.timeoutMs);
      t.unref();
      timers.push(t);
    }
  }
}

// An informer as client-go's reflector + store: list, then watch from the list's
// resourceVersion; on a closed stream resume from the last event seen, and on 410 Gone relist.
// Handlers run after the cache is updated. Also a work queue that collapses duplicate keys and
// retries failed keys with backoff, so a reconcile is never lost and never runs twice at once.
import type { K8sObject, KubeClient, WatchHandle } from '../client/kubeClient.js';

export type EventHandler = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: K8sObject, old?: K8sObject) => void;

const keyOf = (o: K8sObject): string =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;

export class Informer {
  readonly cache = new Map<string, K8sObject>();
  private stopped = false;
  private watchHandle: WatchHandle | undefined;
  private readonly handlers: EventHandler[] = [];
  private synced!: () => void;
  readonly hasSynced: Promise<void> = new Promise((r) => {
    this.synced = r;
  });

  constructor(
    private readonly client: KubeClient,
    private readonly path: string,
  ) {}

  on(h: EventHandler): this {
    this.handlers.push(h);
    return this;
  }

  list(): K8sObject[] {
    return [...this.cache.values()];
  }
  get(key: string): K8sObject | undefined {
    return this.cache.get(key);
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.watchHandle?.stop();
  }

  private emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', o: K8sObject, old?: K8sObject): void {
    for (const h of this.handlers) {
      try {
        h(type, o, old);
      } catch {
        /* a handler bug must not kill the informer */
      }
    }
  }

  private async run(): Promise<void> {
    let rv = '';
    while (!this.stopped) {
      try {
        if (!rv) rv = await this.relist();
        let expired = false;
        this.watchHandle = this.client.watch(
          `${this.path}${this.path.includes('?') ? '&' : '?'}watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`,
          (type, obj) => {
            if (type === 'ERROR') {
              expired = true;
              return;
            }
            if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
            if (type === 'BOOKMARK') return;
            const key = keyOf(obj);
            const old = this.cache.get(key);
            if (type === 'DELETED') {
              this.cache.delete(key);
              this.emit('DELETED', obj, old);
              return;
            }
            this.cache.set(key, obj);
            this.emit(old ? 'MODIFIED' : 'ADDED', obj, old);
          },
        );
        await this.watchHandle.done;
        if (expired) rv = '';
      } catch {
        rv = '';
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async relist(): Promise<string> {
    const res = await this.client.request<{ metadata: { resourceVersion: string }; items: K8sObject[] }>(
      'GET',
      this.path,
    );
    if (res.status !== 200) throw new Error(`list ${this.path}: ${res.status}`);
    const seen = new Set<string>();
    for (const o of res.body.items) {
      const key = keyOf(o);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, o);
      if (!old) this.emit('ADDED', o);
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit('MODIFIED', o, old);
    }
    for (const [key, o] of this.cache)
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('DELETED', o);
      }
    this.synced();
    return res.body.metadata.resourceVersion;
  }
}

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly reconcile: (key: string) => Promise<void>) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.pending.has(key)) return;
    this.pending.add(key);
    queueMicrotask(() => void this.process(key));
  }

  /** Re-adds after a delay (a requeue after a failure or to re-check later). */
  addAfter(key: string, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.add(key);
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
  }

  private async process(key: string): Promise<void> {
    this.pending.delete(key);
    if (this.stopped) return;
    this.running.add(key);
    try {
      await this.reconcile(key);
      this.failures.delete(key);
    } catch {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      // client-go's default controller rate limiter: 5 ms doubling, capped (here at 5 s).
      this.addAfter(key, Math.min(5_000, 5 * 2 ** n));
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.add(key);
    }
  }
}

export { keyOf };

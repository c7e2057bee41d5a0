import { setTimeout as sleep } from 'node:timers/promises';
import type { K8sObject, KubeClient } from '@longshore/sandbox';

type WatchHandle = ReturnType<KubeClient['watch']>;

/**
 * Tells the demo's user, as it happens, when the cluster autoscaler adds a node and when it
 * removes one: a node watch, as `kubectl get nodes -w` would show it. A stream that ends is
 * resumed from the last resourceVersion, and a compacted one is listed again.
 */
export class ClusterNodeReporter {
  private readonly initial = new Set<string>();
  private readonly current = new Set<string>();
  private watch: WatchHandle | undefined;
  private stopped = false;
  private readonly changed = new Set<() => void>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly print: (line: string) => void,
    private readonly scaleDownDelayMs: number,
  ) {}

  async start(): Promise<void> {
    const resourceVersion = await this.list(false);
    for (const name of this.current) this.initial.add(name);
    this.running = this.follow(resourceVersion);
  }

  /** Nodes the autoscaler added since the demo started that are still there. */
  added(): string[] {
    return [...this.current].filter((n) => !this.initial.has(n));
  }

  /** Resolves true once every added node is gone again, false at the deadline or on stop(). */
  scaledDown(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.added().length > 0 && !this.stopped) return;
        this.changed.delete(check);
        clearTimeout(timer);
        resolve(this.added().length === 0);
      };
      const timer = setTimeout(() => {
        this.changed.delete(check);
        resolve(false);
      }, timeoutMs);
      this.changed.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    await this.running;
    this.notify();
  }

  private nodeCount(): string {
    return `${this.current.size} node${this.current.size === 1 ? '' : 's'}`;
  }

  private joined(name: string, report = true): void {
    if (this.current.has(name)) return;
    this.current.add(name);
    if (report) this.print(`[sandbox] node ${name} joined the cluster (${this.nodeCount()})`);
    this.notify();
  }

  private left(name: string): void {
    if (!this.current.delete(name)) return;
    this.print(
      `[sandbox] node ${name} was removed by the cluster autoscaler: it stayed unneeded for ${Math.round(this.scaleDownDelayMs / 1000)} s (${this.nodeCount()})`,
    );
    this.notify();
  }

  private notify(): void {
    for (const check of [...this.changed]) check();
  }

  /** Lists the nodes, reporting the difference to what was known; answers the list's resourceVersion. */
  private async list(report = true): Promise<string> {
    const r = await this.client.request<{ metadata: { resourceVersion: string }; items: K8sObject[] }>(
      'GET',
      '/api/v1/nodes',
    );
    if (r.status !== 200) throw new Error(`listing the sandbox's nodes: HTTP ${r.status}`);
    const names = new Set(r.body.items.map((n) => n.metadata.name));
    for (const name of [...this.current]) if (!names.has(name)) this.left(name);
    for (const name of names) this.joined(name, report);
    return r.body.metadata.resourceVersion;
  }

  private async follow(from: string): Promise<void> {
    let resourceVersion = from;
    while (!this.stopped) {
      let expired = false;
      this.watch = this.client.watch(
        `/api/v1/nodes?watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`,
        (type, node) => {
          if (type === 'ERROR') {
            expired = true;
            return;
          }
          if (node.metadata.resourceVersion) resourceVersion = node.metadata.resourceVersion;
          if (type === 'ADDED') this.joined(node.metadata.name);
          else if (type === 'DELETED') this.left(node.metadata.name);
        },
      );
      await this.watch.done;
      if (this.stopped) return;
      await sleep(200);
      if (expired) resourceVersion = await this.list().catch(() => resourceVersion);
    }
  }
}

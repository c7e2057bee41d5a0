import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { inNotices, type ClusterSignals } from '../cluster/clusterSignals.js';

/**
 * Changes are gathered this long before other nodes are told, in one notice for every task that
 * changed meanwhile: a busy log appends many batches a second, and a follower elsewhere needs to
 * hear of them within a second, not of each.
 */
const GATHER_MS = 50;
/** While notices may be missed, how often followers on this node read their logs anyway. */
const FALLBACK_INTERVAL_MS = 1_000;

/**
 * Who hears that a task's log or state changed: followers on this node at once, followers on
 * other nodes through a `log` notice sent after the change committed. While the node cannot hear
 * other nodes, and once when it can again, every followed log is read as if it had changed.
 */
export class TaskLogChanges {
  readonly #events = new EventEmitter();
  readonly #signals: ClusterSignals | undefined;
  readonly #log: Pick<FastifyBaseLogger, 'error'> | undefined;
  readonly #gathered = new Set<string>();
  #sendTimer: NodeJS.Timeout | undefined;
  readonly #stops: (() => void)[] = [];

  constructor(cluster?: { signals: ClusterSignals; log: Pick<FastifyBaseLogger, 'error'> }) {
    this.#events.setMaxListeners(0);
    this.#signals = cluster?.signals;
    this.#log = cluster?.log;
  }

  start(): void {
    const signals = this.#signals;
    if (!signals) return;
    this.#stops.push(
      signals.subscribe('log', (message) => this.#heard(message)),
      signals.onLiveChange((live) => {
        if (live) this.#touchFollowed();
      }),
    );
    const fallback = setInterval(() => {
      if (!signals.live) this.#touchFollowed();
    }, FALLBACK_INTERVAL_MS);
    fallback.unref();
    this.#stops.push(() => clearInterval(fallback));
  }

  stop(): void {
    for (const stop of this.#stops.splice(0)) stop();
    clearTimeout(this.#sendTimer);
    this.#sendTimer = undefined;
  }

  /** The task's log or state changed, and that change has committed. */
  changed(taskId: string): void {
    this.#events.emit(taskId);
    if (!this.#signals) return;
    this.#gathered.add(taskId);
    if (this.#sendTimer) return;
    this.#sendTimer = setTimeout(() => this.#send(), GATHER_MS);
    this.#sendTimer.unref();
  }

  /** Calls back whenever the task's log or state changes; returns the unsubscribe. */
  onChange(taskId: string, listener: () => void): () => void {
    this.#events.on(taskId, listener);
    return () => this.#events.off(taskId, listener);
  }

  #send(): void {
    this.#sendTimer = undefined;
    const taskIds = [...this.#gathered];
    this.#gathered.clear();
    for (const message of inNotices(taskIds, (ids) => JSON.stringify(ids)))
      this.#signals!.publish('log', message).catch((err: unknown) =>
        this.#log?.error({ err }, 'telling other nodes about new log lines failed'),
      );
  }

  #heard(message: string): void {
    let taskIds: unknown;
    try {
      taskIds = JSON.parse(message);
    } catch {
      taskIds = undefined;
    }
    if (!Array.isArray(taskIds)) {
      this.#log?.error({ message: message.slice(0, 200) }, 'a log notice from another node was not a list of tasks');
      return;
    }
    for (const id of taskIds) if (typeof id === 'string') this.#events.emit(id);
  }

  #touchFollowed(): void {
    for (const taskId of this.#events.eventNames()) if (typeof taskId === 'string') this.#events.emit(taskId);
  }
}

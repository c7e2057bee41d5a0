import type { Store } from '../store/database.js';

/**
 * Notices between the server nodes of one store: "work was queued for these polls", "this
 * worker's operations changed", "these task logs grew", "webhook deliveries were queued", "a step
 * queued operations in this pool", "a task you hold was asked to advance". A notice only says where to look; the
 * change itself is in the database, committed before the notice is sent, so a node that acts on
 * one always finds what it was told about. Notices can be missed (a node's channel was down):
 * every user has a fallback that finds the change by reading, and says what it is.
 */
export type SignalTopic = 'wake' | 'worker' | 'log' | 'webhook' | 'queued' | 'advance';

export const SIGNAL_TOPICS: readonly SignalTopic[] = ['wake', 'worker', 'log', 'webhook', 'queued', 'advance'];

export interface PublishOptions {
  /** Only to this node. */
  to?: string;
  /**
   * The transaction that makes the change: the notice goes out when it commits, and not at all
   * if it rolls back (PostgreSQL holds a NOTIFY until then).
   */
  within?: Store;
  /**
   * This node hears it too, as the others do: what it tells of is only seen once `within` has
   * committed, and acting on it here before then would find nothing.
   */
  alsoHere?: boolean;
}

/**
 * PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; ours are lists of ids, split into
 * several notices well below that (see `inNotices`).
 */
export const MAX_NOTICE_BYTES = 7_000;

export interface ClusterSignals {
  /** This node's id, unique among the nodes running now; notices can be addressed to it. */
  readonly nodeId: string;
  /**
   * Sends `message` to the other nodes (not to this one, unless `alsoHere`: a node acts on its own
   * changes directly). Call it after the change's transaction has committed, or give that transaction.
   */
  publish(topic: SignalTopic, message: string, options?: PublishOptions): Promise<void>;
  /** Calls `listener` with each notice of `topic` from another node; returns the unsubscribe. */
  subscribe(topic: SignalTopic, listener: (message: string) => void): () => void;
  /** False while notices from other nodes may be missed: users then read on a timer. */
  readonly live: boolean;
  /** Calls back whenever `live` changes; on a change to live, users read once what they may have missed. */
  onLiveChange(listener: (live: boolean) => void): () => void;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Splits `items` into as few messages as keep each under MAX_NOTICE_BYTES. */
export function inNotices<T>(items: readonly T[], encode: (batch: readonly T[]) => string): string[] {
  const messages: string[] = [];
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length > 1 && Buffer.byteLength(encode(batch)) > MAX_NOTICE_BYTES) {
      batch.pop();
      messages.push(encode(batch));
      batch = [item];
    }
  }
  if (batch.length) messages.push(encode(batch));
  return messages;
}

/**
 * The nodes of one process: a single SQLite node (alone, so nothing is ever sent), or several
 * nodes that tests run side by side and link with one `members` set.
 */
export class InProcessSignals implements ClusterSignals {
  readonly nodeId: string;
  readonly live = true;
  readonly #members: Set<InProcessSignals>;
  readonly #listeners = new Map<SignalTopic, Set<(message: string) => void>>();

  constructor(nodeId: string, members: Set<InProcessSignals> = new Set()) {
    this.nodeId = nodeId;
    this.#members = members;
  }

  start(): Promise<void> {
    this.#members.add(this);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#members.delete(this);
    return Promise.resolve();
  }

  publish(topic: SignalTopic, message: string, { to, alsoHere }: PublishOptions = {}): Promise<void> {
    for (const member of this.#members) {
      if (member === this || (to !== undefined && member.nodeId !== to)) continue;
      // Delivered later, as a notice from another process would be: never inside the sender's call.
      setImmediate(() => member.#deliver(topic, message));
    }
    if (alsoHere) setImmediate(() => this.#deliver(topic, message));
    return Promise.resolve();
  }

  subscribe(topic: SignalTopic, listener: (message: string) => void): () => void {
    let listeners = this.#listeners.get(topic);
    if (!listeners) this.#listeners.set(topic, (listeners = new Set()));
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  onLiveChange(): () => void {
    return () => {};
  }

  #deliver(topic: SignalTopic, message: string): void {
    for (const listener of this.#listeners.get(topic) ?? []) listener(message);
  }
}

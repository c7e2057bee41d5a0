import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import type { Store } from '../store/database.js';
import {
  MAX_NOTICE_BYTES,
  SIGNAL_TOPICS,
  type ClusterSignals,
  type PublishOptions,
  type SignalTopic,
} from './clusterSignals.js';

/** Back-off between attempts to reconnect the listening connection: quick at first, then every 10 s. */
const FIRST_RETRY_MS = 250;
const LAST_RETRY_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

export interface PostgresSignalsParts {
  /** The store's URL: the listening connection goes to the same database (NOTIFY is per database). */
  url: string;
  /** Where notices are sent from: any pooled connection will do. */
  db: Store;
  nodeId: string;
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>;
}

/**
 * LISTEN/NOTIFY. Notices arrive on one connection of their own, outside the pool: a pooled one
 * goes back to the pool between queries, and a LISTEN lasts only as long as its session. When
 * that connection drops, notices sent meanwhile are lost for good (PostgreSQL keeps none for a
 * session that is gone), so the node says it is not `live`, its users read on a timer, and it
 * reconnects with a back-off; once live again, users read once what they may have missed.
 *
 * A notice sent inside a transaction goes out at its commit, and one sent after it on another
 * connection is later still: either way a listener never hears of a change it cannot yet read.
 */
export class PostgresSignals implements ClusterSignals {
  readonly nodeId: string;
  readonly #parts: PostgresSignalsParts;
  readonly #listeners = new Map<SignalTopic, Set<(message: string) => void>>();
  readonly #liveListeners = new Set<(live: boolean) => void>();
  #client: pg.Client | undefined;
  #live = false;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #retryMs = FIRST_RETRY_MS;

  constructor(parts: PostgresSignalsParts) {
    this.#parts = parts;
    this.nodeId = parts.nodeId;
  }

  get live(): boolean {
    return this.#live;
  }

  /** Connects once; a failure leaves the node running on its fallbacks while it keeps trying. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    this.#setLive(false);
    await client?.end().catch(() => {
      // Already broken: nothing to close.
    });
  }

  async publish(topic: SignalTopic, message: string, { to, within, alsoHere }: PublishOptions = {}): Promise<void> {
    const payload = `${alsoHere ? EVERY_NODE : this.nodeId}|${message}`;
    if (Buffer.byteLength(payload) > MAX_NOTICE_BYTES)
      throw new Error(`a ${topic} notice of ${Buffer.byteLength(payload)} bytes is over ${MAX_NOTICE_BYTES}`);
    await sql`select pg_notify(${channel(topic, to)}, ${payload})`.execute(within ?? this.#parts.db);
  }

  subscribe(topic: SignalTopic, listener: (message: string) => void): () => void {
    let listeners = this.#listeners.get(topic);
    if (!listeners) this.#listeners.set(topic, (listeners = new Set()));
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  onLiveChange(listener: (live: boolean) => void): () => void {
    this.#liveListeners.add(listener);
    return () => this.#liveListeners.delete(listener);
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({
      connectionString: this.#parts.url,
      application_name: 'longshore-server-signals',
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // An idle connection is what a firewall drops silently; keep-alives make the drop an error we see.
      keepAlive: true,
    });
    const byChannel = new Map<string, SignalTopic>();
    for (const topic of SIGNAL_TOPICS) {
      byChannel.set(channel(topic), topic);
      byChannel.set(channel(topic, this.nodeId), topic);
    }
    client.on('notification', (n) => {
      const topic = byChannel.get(n.channel);
      if (topic && n.payload !== undefined) this.#deliver(topic, n.payload);
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, undefined));
    this.#client = client;
    try {
      await client.connect();
      for (const name of byChannel.keys()) await client.query(`LISTEN ${name}`);
    } catch (error) {
      this.#lost(client, error as Error);
      return;
    }
    if (this.#client !== client) return;
    this.#retryMs = FIRST_RETRY_MS;
    this.#setLive(true);
  }

  #lost(client: pg.Client, error: Error | undefined): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.removeAllListeners('end');
    client.on('error', () => {
      // Its errors were reported once; it is being closed.
    });
    void client.end().catch(() => {});
    this.#setLive(false);
    if (this.#closed) return;
    this.#parts.log.warn(
      { err: error, retryInMs: this.#retryMs },
      'the connection that hears other server nodes dropped; reading on a timer until it is back',
    );
    this.#retry = setTimeout(() => void this.#connect(), this.#retryMs);
    this.#retry.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, LAST_RETRY_MS);
  }

  #setLive(live: boolean): void {
    if (this.#live === live) return;
    this.#live = live;
    if (live) this.#parts.log.info({ nodeId: this.nodeId }, 'hearing other server nodes');
    for (const listener of this.#liveListeners) listener(live);
  }

  #deliver(topic: SignalTopic, payload: string): void {
    const bar = payload.indexOf('|');
    // Our own broadcasts come back to us too: this node acted on them when it sent them, unless sent to every node.
    if (bar < 0 || payload.slice(0, bar) === this.nodeId) return;
    const message = payload.slice(bar + 1);
    for (const listener of this.#listeners.get(topic) ?? []) listener(message);
  }
}

/** The sender of a notice its sender hears too; no node id is this. */
const EVERY_NODE = '*';

/** Lowercase letters, digits and underscores only, so the name needs no quoting in LISTEN. */
function channel(topic: SignalTopic, to?: string): string {
  return to === undefined ? `longshore_${topic}` : `longshore_${topic}_${to.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
}

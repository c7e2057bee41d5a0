import type { Selectable } from 'kysely';
import { newId } from '../crypto/tokens.js';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { deploymentData, workerData, workerHealthEvent } from './eventData.js';
import type { WebhookEvent, WebhookEvents, WorkerHealthChange } from './webhookEvents.js';

export type DeliveryRow = Selectable<Database['webhook_deliveries']>;

/**
 * Where events become deliveries: one row per subscribed, enabled webhook, written in the caller's
 * transaction. Nothing here calls out; the deliverer is told there is work once the rows are in
 * (on whichever node runs it: `wake` is given the transaction, and the notice waits for its commit).
 */
export class WebhookOutbox implements WebhookEvents {
  readonly #serverUrl: () => string;
  readonly #wake: (within?: Store) => Promise<void>;

  constructor(parts: { serverUrl: () => string; wake: (within?: Store) => Promise<void> }) {
    this.#serverUrl = parts.serverUrl;
    this.#wake = parts.wake;
  }

  async deploymentChanged(db: Store, taskId: string, state: 'running' | 'succeeded' | 'failed' | 'cancelled') {
    const event: WebhookEvent = state === 'running' ? 'deployment.started' : `deployment.${state}`;
    const subscribers = await this.#subscribers(db, event);
    if (subscribers.length === 0) return;
    const data = await deploymentData(db, taskId, this.#serverUrl());
    if (data) await this.#insert(db, subscribers, event, data);
  }

  async workerHealthChanged(db: Store, change: WorkerHealthChange) {
    const event = workerHealthEvent(change);
    if (!event) return;
    const subscribers = await this.#subscribers(db, event);
    if (subscribers.length === 0) return;
    const data = await workerData(db, change);
    if (data) await this.#insert(db, subscribers, event, data);
  }

  /** Has the deliverer look now: a webhook was enabled again, and what waited for it can go. */
  wake(): Promise<void> {
    return this.#wake();
  }

  /** A delivery to this one webhook, whatever it subscribes to (a test's ping); answers its row. */
  async enqueueTo(db: Store, webhookId: string, event: string, data: object): Promise<DeliveryRow> {
    const [row] = await this.#insert(db, [webhookId], event, data);
    return row!;
  }

  /** The same event and data again as a new delivery (a new id, so a receiver that dedupes takes it). */
  async redeliver(db: Store, original: DeliveryRow): Promise<DeliveryRow> {
    const { event, occurredAt, data } = JSON.parse(original.payload) as {
      event: string;
      occurredAt: string;
      data: object;
    };
    const [row] = await this.#insert(db, [original.webhook_id], event, data, Date.parse(occurredAt));
    return row!;
  }

  /** Few rows (webhooks are configuration), so their lists are filtered here rather than in SQL. */
  async #subscribers(db: Store, event: WebhookEvent): Promise<string[]> {
    const hooks = await db.selectFrom('webhooks').select(['id', 'events']).where('enabled', '=', 1).execute();
    return hooks.filter((h) => (JSON.parse(h.events) as string[]).includes(event)).map((h) => h.id);
  }

  async #insert(
    db: Store,
    webhookIds: readonly string[],
    event: string,
    data: object,
    occurredAt = Date.now(),
  ): Promise<DeliveryRow[]> {
    if (webhookIds.length === 0) return [];
    const t = Date.now();
    const rows = webhookIds.map((webhookId) => {
      const id = newId('whd');
      // The body is kept as it is sent, so every attempt sends the same bytes under the same signature.
      const payload = JSON.stringify({ id, event, occurredAt: new Date(occurredAt).toISOString(), data });
      return {
        id,
        webhook_id: webhookId,
        event,
        payload,
        state: 'pending' as const,
        attempts: 0,
        next_attempt_at: t,
        last_status: null,
        last_error: null,
        created_at: t,
        delivered_at: null,
      };
    });
    const inserted = await db.insertInto('webhook_deliveries').values(rows).returningAll().execute();
    await this.#wake(db);
    return inserted;
  }
}

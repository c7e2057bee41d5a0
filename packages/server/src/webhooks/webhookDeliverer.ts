import type { FastifyBaseLogger } from 'fastify';
import type { SecretBox } from '../crypto/secretBox.js';
import type { Store } from '../store/database.js';
import { nextRetryDelayMs, type RetryPolicy } from './retrySchedule.js';
import { attemptDelivery, type AttemptResult } from './webhookAttempt.js';

export interface DelivererSettings {
  retry: RetryPolicy;
  /** How long one attempt waits for the receiver's answer. */
  timeoutMs: number;
  /** Delivered and failed deliveries older than this are removed. */
  retentionDays: number;
}

/** Attempts under way at once, across all webhooks: what the deliverer holds in memory is bounded by it. */
const MAX_IN_FLIGHT = 16;
/** An attempt the server stopped during is tried again this long after its timeout would have ended it. */
const LOST_ATTEMPT_GRACE_MS = 5_000;
/** With nothing due, the deliverer still looks this often (rows another process wrote, clocks that jumped). */
const IDLE_RECHECK_MS = 60_000;
const AFTER_ERROR_MS = 5_000;
const TRIM_INTERVAL_MS = 3_600_000;

interface DueDelivery {
  id: string;
  webhook_id: string;
  event: string;
  payload: string;
  attempts: number;
  next_attempt_at: number | null;
  name: string;
  url: string;
  secret: string;
}

/**
 * Sends what the outbox queued. It wakes when deliveries are queued or an attempt ends, and
 * otherwise sleeps until the next retry is due. Each webhook has at most one attempt under way,
 * its oldest due delivery first, so a healthy receiver gets events in order; a delivery waiting to
 * be retried holds back neither its own webhook's newer events nor other webhooks. An attempt
 * is claimed in the store before it starts, so it is made once even if two loops race, and one
 * cut short by a stop is tried again after restart.
 */
export class WebhookDeliverer {
  readonly #db: Store;
  readonly #box: SecretBox;
  readonly #log: Pick<FastifyBaseLogger, 'error' | 'warn' | 'info'>;
  readonly #settings: DelivererSettings;
  /** The attempt under way for each webhook, by its id. */
  readonly #inFlight = new Map<string, Promise<void>>();
  #stopping = new AbortController();
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #trimTimer: NodeJS.Timeout | undefined;
  #ticking = false;
  #again = false;
  /** The look and the trim under way, which a stop waits for before the store closes. */
  #looking: Promise<void> = Promise.resolve();
  #trimming: Promise<void> = Promise.resolve();

  constructor(parts: {
    db: Store;
    box: SecretBox;
    log: Pick<FastifyBaseLogger, 'error' | 'warn' | 'info'>;
    settings: DelivererSettings;
  }) {
    this.#db = parts.db;
    this.#box = parts.box;
    this.#log = parts.log;
    this.#settings = parts.settings;
  }

  start(): void {
    this.#running = true;
    this.#stopping = new AbortController();
    this.wake();
    const trim = () => {
      this.#trimming = this.#trim().catch((err: unknown) =>
        this.#log.error({ err }, 'trimming the webhook delivery log failed'),
      );
    };
    trim();
    this.#trimTimer = setInterval(trim, TRIM_INTERVAL_MS);
    this.#trimTimer.unref();
  }

  /** Stops looking, cuts the attempts under way short and waits for them to let go of the store. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    clearInterval(this.#trimTimer);
    this.#stopping.abort();
    await Promise.allSettled([this.#looking, this.#trimming]);
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  /** Looks for due deliveries at once: some were queued, or an attempt ended. */
  wake(): void {
    this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    const at = Date.now() + delayMs;
    if (this.#timer && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      // A wake during a look makes another right after it, rather than one that overlaps it.
      if (this.#ticking) this.#again = true;
      else this.#looking = this.#tick();
    }, delayMs);
    this.#timer.unref();
  }

  /** One look: starts what is due, then sleeps until the next is. */
  async #tick(): Promise<void> {
    this.#ticking = true;
    let next = IDLE_RECHECK_MS;
    try {
      await this.#startDue();
      // With every slot taken, the end of an attempt is what wakes it.
      next = this.#inFlight.size >= MAX_IN_FLIGHT ? IDLE_RECHECK_MS : await this.#untilNextDue();
    } catch (err) {
      this.#log.error({ err }, 'looking for webhook deliveries to send failed; trying again shortly');
      next = AFTER_ERROR_MS;
    } finally {
      this.#ticking = false;
    }
    if (this.#again) {
      this.#again = false;
      next = 0;
    }
    this.#schedule(next);
  }

  /** The pending deliveries of enabled webhooks with no attempt under way here. */
  #pending(now?: number) {
    const busy = [...this.#inFlight.keys()];
    let q = this.#db
      .selectFrom('webhook_deliveries')
      .innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
      .where('webhook_deliveries.state', '=', 'pending')
      .where('webhooks.enabled', '=', 1);
    if (now !== undefined) q = q.where('webhook_deliveries.next_attempt_at', '<=', now);
    if (busy.length) q = q.where('webhook_deliveries.webhook_id', 'not in', busy);
    return q;
  }

  async #startDue(): Promise<void> {
    const room = MAX_IN_FLIGHT - this.#inFlight.size;
    if (room <= 0) return;
    const now = Date.now();
    const webhooks = await this.#pending(now).select('webhook_deliveries.webhook_id').distinct().limit(room).execute();
    for (const { webhook_id } of webhooks) {
      if (!this.#running) return;
      const due = await this.#pending(now)
        .select([
          'webhook_deliveries.id',
          'webhook_deliveries.webhook_id',
          'webhook_deliveries.event',
          'webhook_deliveries.payload',
          'webhook_deliveries.attempts',
          'webhook_deliveries.next_attempt_at',
          'webhooks.name',
          'webhooks.url',
          'webhooks.secret',
        ])
        .where('webhook_deliveries.webhook_id', '=', webhook_id)
        .orderBy('webhook_deliveries.seq')
        .limit(1)
        .executeTakeFirst();
      if (!due || !(await this.#claim(due, now))) continue;
      const run = this.#deliver(due)
        .catch((err: unknown) =>
          this.#log.error({ err, webhook: due.name, delivery: due.id }, 'recording a webhook delivery failed'),
        )
        .finally(() => {
          this.#inFlight.delete(webhook_id);
          this.wake();
        });
      this.#inFlight.set(webhook_id, run);
    }
  }

  /** Counts the attempt and moves the delivery out of reach until the attempt must have ended; false if another did first. */
  async #claim(due: DueDelivery, now: number): Promise<boolean> {
    const claimed = await this.#db
      .updateTable('webhook_deliveries')
      .set({ attempts: due.attempts + 1, next_attempt_at: now + this.#settings.timeoutMs + LOST_ATTEMPT_GRACE_MS })
      .where('id', '=', due.id)
      .where('state', '=', 'pending')
      .where('attempts', '=', due.attempts)
      .where('next_attempt_at', '=', due.next_attempt_at)
      .executeTakeFirst();
    return Number(claimed.numUpdatedRows) === 1;
  }

  async #deliver(due: DueDelivery): Promise<void> {
    const attempt = due.attempts + 1;
    const result = await attemptDelivery({
      url: due.url,
      secret: this.#box.open(due.secret),
      deliveryId: due.id,
      event: due.event,
      body: due.payload,
      timeoutMs: this.#settings.timeoutMs,
      signal: this.#stopping.signal,
    });
    // Cut short by a stop: the claim runs out and the next start tries it again.
    if (!result.delivered && this.#stopping.signal.aborted) return;
    await this.#record(due, attempt, result);
  }

  async #record(due: DueDelivery, attempt: number, result: AttemptResult): Promise<void> {
    const t = Date.now();
    const retryIn = result.delivered ? undefined : nextRetryDelayMs(this.#settings.retry, attempt);
    const outcome = { last_status: result.status, last_error: result.error };
    await this.#db
      .updateTable('webhook_deliveries')
      .set(
        result.delivered
          ? { ...outcome, state: 'delivered', delivered_at: t, next_attempt_at: null }
          : retryIn === undefined
            ? { ...outcome, state: 'failed', next_attempt_at: null }
            : { ...outcome, next_attempt_at: t + retryIn },
      )
      .where('id', '=', due.id)
      .where('state', '=', 'pending')
      .execute();
    if (!result.delivered && retryIn === undefined)
      this.#log.warn(
        { webhook: due.name, delivery: due.id, event: due.event, attempts: attempt, error: result.error },
        'a webhook delivery failed for good after its last attempt',
      );
  }

  /** How long until the next pending delivery is due, at most the idle recheck. */
  async #untilNextDue(): Promise<number> {
    const row = await this.#pending()
      .select((eb) => eb.fn.min('webhook_deliveries.next_attempt_at').as('next'))
      .executeTakeFirst();
    const next = row?.next;
    if (next === null || next === undefined) return IDLE_RECHECK_MS;
    return Math.min(Math.max(0, Number(next) - Date.now()), IDLE_RECHECK_MS);
  }

  async #trim(): Promise<void> {
    await this.#db
      .deleteFrom('webhook_deliveries')
      .where('created_at', '<', Date.now() - this.#settings.retentionDays * 86_400_000)
      .where('state', '!=', 'pending')
      .execute();
  }
}

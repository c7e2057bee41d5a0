import type { WorkerHealth } from '@longshore/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { TerminalTaskState } from '../orchestration/taskState.js';
import type { Store } from '../store/database.js';

/** The events a webhook may subscribe to, and what each means. */
export const WEBHOOK_EVENTS = {
  'deployment.started': 'A deployment began running its first step',
  'deployment.succeeded': 'A deployment ended with every step that ran succeeding',
  'deployment.failed': 'A deployment ended with a step failed, or could not go on',
  'deployment.cancelled': 'A deployment was cancelled and has stopped',
  'worker.unhealthy': 'A healthy (or not yet checked) worker was found unhealthy or unavailable by a health check',
  'worker.healthy': 'An unhealthy or unavailable worker was found healthy again',
} as const;

export type WebhookEvent = keyof typeof WEBHOOK_EVENTS;
export const WEBHOOK_EVENT_NAMES = Object.keys(WEBHOOK_EVENTS) as WebhookEvent[];

/** The one event nobody subscribes to: `longshore webhooks test` sends it to one webhook. */
export const PING_EVENT = 'ping';

/**
 * What the parts of the server that change things tell webhooks, in words of their own domain:
 * the webhooks decide who hears of it and what they are sent. Each call writes through `db`,
 * the transaction that records the change, so an event is queued exactly when its change commits.
 */
export interface WebhookEvents {
  /** A deployment's task began running (`running`) or ended. */
  deploymentChanged(db: Store, taskId: string, state: 'running' | TerminalTaskState): Promise<void>;
  /** A health check set a worker's health; `before` is what it was. */
  workerHealthChanged(db: Store, change: WorkerHealthChange): Promise<void>;
}

export interface WorkerHealthChange {
  workerId: string;
  before: WorkerHealth;
  after: WorkerHealth;
  reasons: readonly string[];
}

/**
 * Writes a change and queues its event in one transaction, so the event is queued exactly when the
 * change commits. Should queuing fail, the change is written alone and the failure logged: a
 * webhook never holds up a deployment or a health check. (A write that fails alone still throws.)
 */
export async function writeWithEvent(
  db: Store,
  log: Pick<FastifyBaseLogger, 'error'>,
  write: (db: Store) => Promise<unknown>,
  queue: ((db: Store) => Promise<void>) | undefined,
  /** What the change is about, for the log: `{ taskId }`, `{ workerId }`. */
  about: Record<string, string>,
): Promise<void> {
  if (!queue) {
    await write(db);
    return;
  }
  try {
    await db.transaction().execute(async (trx) => {
      await write(trx);
      await queue(trx);
    });
  } catch (err) {
    log.error({ err, ...about }, 'queuing webhook deliveries failed; the change is recorded without them');
    await write(db);
  }
}

import type { Outcome } from '@longshore/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { SecretBox } from '../crypto/secretBox.js';
import type { WorkSignals } from '../dispatch/workerWakeups.js';
import type { TaskLog } from '../logs/taskLog.js';
import type { Store } from '../store/database.js';
import type { WebhookEvents } from '../webhooks/webhookEvents.js';
import type { TaskOwnership } from '../cluster/taskLeases.js';

/* What the task runner is given, and what it tells: composed in app.ts. */

/** Moves the tasks of a kind other than deployments (a worker's upgrade) when their operations end. */
export interface TaskDriver {
  advance(taskId: string): Promise<void>;
  /** Why its tasks cannot be cancelled, when they cannot. */
  readonly cancelRefusal?: string;
}

export interface TaskRunnerParts {
  db: Store;
  box: SecretBox;
  log: Pick<FastifyBaseLogger, 'error'>;
  taskLog: TaskLog;
  /** Tells workers of work queued or cancels asked for. */
  workers: WorkSignals;
  /** Told when a step queues its first operations, to say at once if its pool has no usable worker. */
  pools?: { stepQueued(poolId: string): void };
  /** Told of every operation that ends, for the metrics. */
  observer?: OperationObserver;
  /** By task kind: who moves the tasks that are not deployments. */
  drivers?: Readonly<Record<string, TaskDriver>>;
  /** Told in the same transaction when a deployment starts and ends. */
  events?: WebhookEvents;
  /** Which node of the cluster may advance a task; absent, this runner advances every task (one runner on its store). */
  ownership?: TaskOwnership;
}

export interface OperationObserver {
  operationsFinished(outcome: Outcome, count: number): void;
}

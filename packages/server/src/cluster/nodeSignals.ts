import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from '../config.js';
import { ClusterWakeups } from '../dispatch/clusterWakeups.js';
import { WorkerWakeups, type PollWakeups } from '../dispatch/workerWakeups.js';
import { TaskLogChanges } from '../logs/taskLogChanges.js';
import type { Store } from '../store/database.js';
import { dialectOf } from '../store/sqlDialect.js';
import { InProcessSignals, type ClusterSignals } from './clusterSignals.js';
import { PostgresSignals } from './postgresSignals.js';

/** What a node tells the others and hears from them, and the parts that use it. */
export interface NodeSignals {
  signals: ClusterSignals;
  wakeups: PollWakeups;
  logChanges: TaskLogChanges;
  /** After the node listens: it hears other nodes before it starts dispatching. */
  start(): Promise<void>;
  /** Before the store closes: this node's waiting polls leave the database. */
  stop(): Promise<void>;
}

/**
 * On SQLite a node is alone: wake-ups stay in memory and nothing is sent. On PostgreSQL any
 * number of nodes may share the store, one alone included (it cannot know), so waiting polls are
 * registered in the database and notices go through LISTEN/NOTIFY.
 */
export function nodeSignals(
  config: Pick<ServerConfig, 'database' | 'maxPollWaitMs' | 'sweepIntervalMs'>,
  db: Store,
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>,
  nodeId: string,
): NodeSignals {
  if (dialectOf(db) !== 'postgres' || config.database === undefined) {
    const signals = new InProcessSignals(nodeId);
    const logChanges = new TaskLogChanges();
    return {
      signals,
      wakeups: new WorkerWakeups(),
      logChanges,
      start: () => signals.start(),
      stop: () => signals.close(),
    };
  }
  const signals = new PostgresSignals({ url: config.database, db, nodeId, log });
  const logChanges = new TaskLogChanges({ signals, log });
  const wakeups = new ClusterWakeups({
    db,
    signals,
    log,
    maxPollWaitMs: config.maxPollWaitMs,
    sweepIntervalMs: config.sweepIntervalMs,
  });
  return {
    signals,
    wakeups,
    logChanges,
    async start() {
      logChanges.start();
      wakeups.start();
      await signals.start();
    },
    async stop() {
      logChanges.stop();
      await wakeups.stop().catch((err: unknown) => log.warn({ err }, "removing this node's waiting polls failed"));
      await signals.close();
    },
  };
}

import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from './config.js';
import type { SecretBox } from './crypto/secretBox.js';
import type { Store } from './store/database.js';
import type { Dispatcher } from './dispatch/dispatcher.js';
import type { HealthChecks } from './health/healthChecks.js';
import type { WorkerUpgrades } from './upgrades/workerUpgrades.js';
import type { TaskControl } from './orchestration/taskControl.js';
import type { TaskLog } from './logs/taskLog.js';
import type { ServerEndpoint } from './tls/endpoint.js';
import type { AuditLog } from './audit/auditLog.js';
import type { WebhookOutbox } from './webhooks/webhookOutbox.js';
import type { PackageStorage } from './packageStore/packageStorage.js';
import type { ServerNodes } from './cluster/serverNodes.js';

/**
 * The parts route plugins are given, composed in app.ts. Routes reach tasks through TaskControl,
 * not the task runner, whose planning reads resources that take this context.
 */
export interface ServerContext {
  config: ServerConfig;
  db: Store;
  box: SecretBox;
  endpoint: ServerEndpoint;
  dispatcher: Pick<Dispatcher, 'poll'>;
  tasks: TaskControl;
  taskLog: TaskLog;
  health: HealthChecks;
  upgrades: WorkerUpgrades;
  audit: AuditLog;
  /** Where changes queue their webhook deliveries (the WebhookEvents the task runner and health checks are given). */
  webhooks: WebhookOutbox;
  /** Where package bytes live: a directory every node mounts, or the store. */
  packages: PackageStorage;
  /** The nodes of the cluster this server is one of (one, on SQLite). */
  serverNodes: ServerNodes;
  log: FastifyBaseLogger;
}

import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from './config.js';
import type { SecretBox } from './crypto/secretBox.js';
import type { Store } from './store/database.js';
import type { Dispatcher } from './dispatch/dispatcher.js';
import type { TaskRunner } from './orchestration/taskRunner.js';
import type { TaskLog } from './logs/taskLog.js';
import type { ServerEndpoint } from './tls/endpoint.js';

/** What route plugins and services share; built once in app.ts. */
export interface ServerContext {
  config: ServerConfig;
  db: Store;
  box: SecretBox;
  endpoint: ServerEndpoint;
  dispatcher: Dispatcher;
  tasks: TaskRunner;
  taskLog: TaskLog;
  log: FastifyBaseLogger;
}

import type { ExecutorKind } from '@longshore/protocol';
import type { Logger } from 'pino';
import type { CredentialStore } from '../credential.js';
import type { WorkerMetrics } from '../health/workerMetrics.js';
import type { AgentChannel } from '../serverClient.js';
import type { WorkerConfig } from '../workerConfig.js';
import type { Executor } from './executor.js';

/** What the worker gives the executor it starts with. */
export interface ExecutorDependencies<Settings> {
  /** The worker's own channel: package downloads and package tokens go with the worker's credential. */
  channel: AgentChannel;
  log: Logger;
  metrics: WorkerMetrics;
  /** The executor's own settings, beyond the worker's configuration (the Kubernetes executor's cluster). */
  settings?: Settings | undefined;
}

/** An executor and what else the worker takes from where it runs. */
export interface ExecutorParts {
  executor: Executor;
  /** Where the worker keeps its credential instead of its data directory (a Secret, in a cluster). */
  credentials?: CredentialStore;
  /** What the server shows beside the worker (a Kubernetes worker: namespace, cluster and chart versions). */
  describe?: () => Promise<Record<string, string>>;
}

/** Makes one kind of executor; registry.ts lists them all. */
export interface ExecutorProvider<Kind extends ExecutorKind = ExecutorKind, Settings = undefined> {
  readonly kind: Kind;
  create(config: WorkerConfig, dependencies: ExecutorDependencies<Settings>): Promise<ExecutorParts>;
}

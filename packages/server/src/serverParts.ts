// The server's long-lived parts, made in the order they depend on each other: the task runner
// signals waiting workers, the dispatcher ends operations whose worker is gone through the task
// runner, and the health checks and upgrades are tasks of their own. The cluster node decides which
// tasks this process advances and which scheduled work it runs.
import { nodeSignals, type NodeSignals } from './cluster/nodeSignals.js';
import type { ServerContext } from './context.js';
import { StoredAdvanceRequests } from './cluster/advanceRequests.js';
import { ClusterNode } from './cluster/clusterNode.js';
import { ScheduledWork } from './cluster/scheduledWork.js';
import { ServerNodes } from './cluster/serverNodes.js';
import { TaskLeases } from './cluster/taskLeases.js';
import { newId } from './crypto/tokens.js';
import { dialectOf } from './store/sqlDialect.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { UnservedStepWatch } from './dispatch/unservedStepWatch.js';
import { HealthChecks } from './health/healthChecks.js';
import { HealthSchedule } from './health/healthSchedule.js';
import { AuditLog } from './audit/auditLog.js';
import { TaskLog } from './logs/taskLog.js';
import { poolStatistics } from './metrics/poolStatistics.js';
import { ServerMetrics } from './metrics/serverMetrics.js';
import { TaskRunner } from './orchestration/taskRunner.js';
import { configuredPackageStorage } from './packageStore/configuredStorage.js';
import type { ShippedChart } from './upgrades/shippedChart.js';
import { WORKER_UPGRADE_TASK_KIND, WorkerUpgrades } from './upgrades/workerUpgrades.js';
import { WebhookDeliverer } from './webhooks/webhookDeliverer.js';
import { WebhookOutbox } from './webhooks/webhookOutbox.js';

/** The parts app.ts composes, for what starts and stops them and for tests that drive them. */
export interface ServerParts {
  context: ServerContext;
  dispatcher: Dispatcher;
  tasks: TaskRunner;
  unservedSteps: UnservedStepWatch;
  metrics: ServerMetrics;
  healthSchedule: HealthSchedule;
  webhookDeliverer: WebhookDeliverer;
  cluster: ClusterNode;
  /** Notices to and from the other server nodes on the store. */
  signals: NodeSignals;
}

export function composeParts(
  base: Pick<ServerContext, 'config' | 'db' | 'box' | 'endpoint' | 'log'>,
  chart: ShippedChart | undefined,
): ServerParts {
  const { config, db, box, log } = base;
  // One id names this node everywhere: its heartbeat row, the tasks and leases it holds, its
  // waiting polls and the notices it sends.
  const nodeId = newId('node');
  const signals = nodeSignals(config, db, log, nodeId);
  const { wakeups } = signals;
  const taskLog = new TaskLog(db, box, signals.logChanges);
  const webhookDeliverer = new WebhookDeliverer({
    db,
    box,
    log,
    settings: {
      retry: {
        baseMs: config.webhookRetryBaseMs,
        maxDelayMs: config.webhookRetryMaxDelayMs,
        maxAttempts: config.webhookMaxAttempts,
      },
      timeoutMs: config.webhookTimeoutMs,
      retentionDays: config.webhookDeliveryRetentionDays,
    },
  });
  // Deliveries run on the one node that holds their lease, which may be another: it is told too.
  const webhooks = new WebhookOutbox({
    serverUrl: () => base.endpoint.url,
    wake: async (within) => {
      // Heard here too once the rows are committed; told directly while notices may be missed.
      if (!signals.signals.live) webhookDeliverer.wake();
      await signals.signals.publish('webhook', '', { within, alsoHere: true });
    },
  });
  signals.signals.subscribe('webhook', () => webhookDeliverer.wake());
  // Back in touch after notices may have been missed: one look instead of waiting for the idle recheck.
  signals.signals.onLiveChange((live) => live && webhookDeliverer.wake());
  const upgrades = new WorkerUpgrades({
    db,
    box,
    log,
    taskLog,
    workers: wakeups,
    chart,
    readyTimeoutSeconds: config.upgradeReadyTimeoutSeconds,
    offlineAfterMs: config.workerOfflineAfterMs,
    serverUrl: () => base.endpoint.url,
  });
  const advanceRequests = new StoredAdvanceRequests({
    db,
    nodeId,
    signals: signals.signals,
    recheckMs: config.sweepIntervalMs,
    log,
  });
  const taskLeases = new TaskLeases({ db, nodeId, leaseMs: config.nodeLeaseMs, requests: advanceRequests });
  const metrics = new ServerMetrics(() => poolStatistics(db, Date.now(), config.workerOfflineAfterMs));
  const tasks = new TaskRunner({
    db,
    box,
    log,
    taskLog,
    workers: wakeups,
    // The watch fails steps through the task runner, so it is made after it.
    pools: { stepQueued },
    observer: metrics,
    events: webhooks,
    ownership: taskLeases,
    drivers: {
      [WORKER_UPGRADE_TASK_KIND]: {
        advance: (taskId) => upgrades.advance(taskId),
        cancelRefusal:
          'An upgrade cannot be cancelled: stopping helm half way leaves the release locked. It ends by itself, rolled back if the new worker does not come back in time',
      },
    },
  });
  const unservedSteps = new UnservedStepWatch({
    db,
    taskLog,
    steps: tasks,
    log,
    offlineAfterMs: config.workerOfflineAfterMs,
    timeoutMs: config.noUsableWorkerTimeoutSeconds * 1000,
    sweepIntervalMs: config.sweepIntervalMs,
  });
  // The watch runs on one node; a step queued on another is told to it, so its pool's trouble is said at once there too.
  function stepQueued(poolId: string): void {
    if (unservedSteps.running) unservedSteps.stepQueued(poolId);
    else
      signals.signals
        .publish('queued', poolId)
        .catch((err: unknown) =>
          log.warn({ err, poolId }, 'telling the node that watches pools failed; its sweep finds the step'),
        );
  }
  signals.signals.subscribe('queued', (poolId) => {
    if (unservedSteps.running) unservedSteps.stepQueued(poolId);
  });
  const dispatcher = new Dispatcher({
    db,
    box,
    log,
    timings: {
      leaseMs: config.leaseMs,
      restartGraceMs: config.restartGraceMs,
      sweepIntervalMs: config.sweepIntervalMs,
      maxPollWaitMs: config.maxPollWaitMs,
    },
    wakeups,
    operations: tasks,
    observer: metrics,
  });
  const health = new HealthChecks({
    db,
    box,
    log,
    taskLog,
    workers: wakeups,
    events: webhooks,
    afterHealthy: (workerId) => upgrades.afterHealthyCheck(workerId),
  });
  const audit = new AuditLog(db, config.auditRetentionDays, log);
  const healthSchedule = new HealthSchedule({ db, checks: health, log, intervalMs: config.sweepIntervalMs });
  const serverNodes = new ServerNodes(db, config.nodeLeaseMs);
  const work = new ScheduledWork({
    db,
    nodeId,
    leaseMs: config.nodeLeaseMs,
    log,
    // Each on one node at a time: two nodes sweeping would each mark the same expired lease lost, say the same
    // unserved step twice, check a worker twice and send a webhook twice.
    jobs: [
      { name: 'operation-lease-sweep', start: () => dispatcher.startSweeping(), stop: () => dispatcher.stopSweeping() },
      { name: 'unserved-step-watch', start: () => unservedSteps.start(), stop: () => unservedSteps.stop() },
      { name: 'worker-health-schedule', start: () => healthSchedule.start(), stop: () => healthSchedule.stop() },
      { name: 'audit-retention', start: () => audit.start(), stop: () => audit.stop() },
      { name: 'webhook-delivery', start: () => webhookDeliverer.start(), stop: () => webhookDeliverer.stop() },
    ],
  });
  const cluster = new ClusterNode({
    nodeId,
    log,
    heartbeatMs: config.nodeHeartbeatMs,
    alone: dialectOf(db) === 'sqlite',
    nodes: serverNodes,
    leases: taskLeases,
    requests: advanceRequests,
    work,
    tasks,
    // Before tasks resume: a health check's task is the health checks' to end, not the task runner's.
    endLeftOvers: () => health.failLeftOvers(),
  });
  return {
    context: {
      ...base,
      taskLog,
      dispatcher,
      tasks,
      health,
      upgrades,
      audit,
      webhooks,
      packages: configuredPackageStorage(config, db),
      serverNodes,
    },
    dispatcher,
    tasks,
    unservedSteps,
    metrics,
    healthSchedule,
    webhookDeliverer,
    cluster,
    signals,
  };
}

import type { FastifyBaseLogger } from 'fastify';
import {
  LONGSHORE_VERSION,
  LongshoreError,
  agentRoutes,
  type Operation,
  type OutputVariable,
} from '@longshore/protocol';
import type { SecretBox } from '../crypto/secretBox.js';
import type { WorkSignals } from '../dispatch/workerWakeups.js';
import { isOnline } from '../dispatch/workerUsability.js';
import { effectivePolicyId } from '../health/effectivePolicy.js';
import type { TaskLog } from '../logs/taskLog.js';
import { newOperationId } from '../crypto/tokens.js';
import { newOperationRow } from '../orchestration/operationRow.js';
import { insertTask } from '../orchestration/taskCreation.js';
import { endTask } from '../orchestration/taskEnd.js';
import { ACTIVE_TASK_STATES } from '../orchestration/taskState.js';
import type { Store } from '../store/database.js';
import { compareSemver, parseSemver } from '../resources/semver.js';
import type { ShippedChart } from './shippedChart.js';
import { CHART_PACKAGE_REFERENCE, UPGRADE_FAILURE_VARIABLE, upgradeScript } from './upgradeScript.js';
import { chartVersionOf, installationOf, workerUpgrade, type ShippedVersions } from './workerUpgrade.js';

/** The kind of the task an upgrade is: one operation, run by the worker it upgrades. */
export const WORKER_UPGRADE_TASK_KIND = 'worker-upgrade';
/** The package id a package token names the chart archive by. */
export const WORKER_CHART_PACKAGE_ID = 'longshore-worker-chart';

export interface WorkerUpgradeParts {
  db: Store;
  box: SecretBox;
  log: Pick<FastifyBaseLogger, 'error'>;
  taskLog: TaskLog;
  workers: WorkSignals;
  /** Undefined when the server has no chart to upgrade with. */
  chart: ShippedChart | undefined;
  readyTimeoutSeconds: number;
  offlineAfterMs: number;
  serverUrl: () => string;
}

export interface RequestedUpgrade {
  worker: string;
  /** The upgrade's task; null when the worker was not upgraded (`message` says why). */
  taskId: string | null;
  message: string;
}

interface UpgradeContext {
  workerId: string;
  workerName: string;
  toWorker: string;
  toChart: string;
}

/** Time for helm itself and the pod's own start, beyond the waits for the workers. */
const UPGRADE_SLACK_SECONDS = 300;

/**
 * Server-driven upgrades of Kubernetes workers, each a task with one operation that the worker
 * itself runs: a script pod under its chart's upgrader ServiceAccount that runs `helm upgrade` of
 * its own release (upgradeScript.ts). The operation is leased straight to that worker, bypassing
 * the pool queues and health (an unhealthy worker may be mended by its upgrade), with a lease as
 * long as the upgrade may take: between the old worker leaving and the new one resuming the pod
 * nobody renews it.
 */
export class WorkerUpgrades {
  readonly #db: Store;
  readonly #box: SecretBox;
  readonly #log: Pick<FastifyBaseLogger, 'error'>;
  readonly #taskLog: TaskLog;
  readonly #workers: WorkSignals;
  readonly #chart: ShippedChart | undefined;
  readonly #readyTimeoutSeconds: number;
  readonly #offlineAfterMs: number;
  readonly #serverUrl: () => string;

  constructor(parts: WorkerUpgradeParts) {
    this.#db = parts.db;
    this.#box = parts.box;
    this.#log = parts.log;
    this.#taskLog = parts.taskLog;
    this.#workers = parts.workers;
    this.#chart = parts.chart;
    this.#readyTimeoutSeconds = parts.readyTimeoutSeconds;
    this.#offlineAfterMs = parts.offlineAfterMs;
    this.#serverUrl = parts.serverUrl;
  }

  get shipped(): ShippedVersions {
    const chart = this.#chart;
    return chart
      ? { workerVersion: chart.workerVersion, chartVersion: chart.chartVersion }
      : { workerVersion: LONGSHORE_VERSION };
  }

  /** The chart archive of `version`, for a worker's upgrade pod; NOT_FOUND for any other version. */
  chartArchive(version: string): ShippedChart {
    if (this.#chart?.chartVersion !== version)
      throw new LongshoreError(
        'NOT_FOUND',
        `This server ships worker chart ${this.#chart?.chartVersion ?? 'none'}, not ${version}`,
      );
    return this.#chart;
  }

  /**
   * Starts an upgrade of each worker that can have one; one already under way is answered
   * instead. `strict`: a worker that cannot be upgraded is an error (one named worker), rather
   * than a line of the answer (every worker).
   */
  async request(workerIds: readonly string[], strict: boolean): Promise<RequestedUpgrade[]> {
    if (workerIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('workers')
      .select(['id', 'name', 'executor', 'version', 'metadata', 'last_seen_at', 'offline_at'])
      .where('id', 'in', workerIds)
      .orderBy('name')
      .execute();
    const underWay = await this.#underWay(workerIds);
    const results: RequestedUpgrade[] = [];
    for (const w of rows) {
      const running = underWay.get(w.id);
      if (running) {
        results.push({ worker: w.name, taskId: running, message: 'An upgrade is already under way' });
        continue;
      }
      const refusal = this.#refusal(w);
      if (refusal) {
        if (strict) throw new LongshoreError('CONFLICT', `Worker '${w.name}' cannot be upgraded: ${refusal}`);
        results.push({ worker: w.name, taskId: null, message: refusal });
        continue;
      }
      const taskId = await this.#start(w);
      results.push({ worker: w.name, taskId, message: `Upgrading to worker ${this.#chart!.workerVersion}` });
    }
    return results;
  }

  /**
   * After a health check found the worker healthy: upgrades it when it is behind and its policy
   * says `automatic`. The sentence for the check's log, or undefined when there is nothing to say.
   */
  async afterHealthyCheck(workerId: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('workers')
      .innerJoin('machine_policies', (join) => join.on('machine_policies.id', '=', effectivePolicyId(this.#db)))
      .select(['workers.name', 'workers.executor', 'workers.version', 'workers.metadata', 'machine_policies.updates'])
      .where('workers.id', '=', workerId)
      .executeTakeFirst();
    if (!row || row.updates !== 'automatic') return undefined;
    if (!workerUpgrade(row, this.shipped, this.#serverUrl()).available) return undefined;
    const failed = await this.#failedBefore(workerId);
    // Not again at every check: the same upgrade would fail the same way and roll back each time.
    if (failed)
      return `The worker is behind, but its last upgrade to this version failed (task ${failed}): it is not tried again automatically; upgrade it by hand (longshore workers upgrade ${row.name}) once the cause is fixed`;
    const [result] = await this.request([workerId], false);
    if (!result) return undefined;
    return result.taskId
      ? `The worker is behind and its machine policy upgrades automatically: upgrade task ${result.taskId}`
      : `The worker is behind, but is not upgraded automatically: ${result.message}`;
  }

  /** The worker's last upgrade task, when it failed and was to the chart this server ships now. */
  async #failedBefore(workerId: string): Promise<string | undefined> {
    const last = await this.#db
      .selectFrom('operations')
      .innerJoin('tasks', 'tasks.id', 'operations.task_id')
      .select(['tasks.id', 'tasks.state', 'tasks.context'])
      .where('tasks.kind', '=', WORKER_UPGRADE_TASK_KIND)
      .where('operations.worker_id', '=', workerId)
      .orderBy('tasks.created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!last || last.state !== 'failed') return undefined;
    const context = this.#box.openJson<UpgradeContext>(last.context);
    return context.toChart === this.#chart?.chartVersion && context.toWorker === this.#chart.workerVersion
      ? last.id
      : undefined;
  }

  /** Why this worker cannot be upgraded by the server now; undefined when it can. */
  #refusal(w: {
    name: string;
    executor: string;
    version: string;
    metadata: string;
    last_seen_at: number;
    offline_at: number | null;
  }): string | undefined {
    const upgrade = workerUpgrade(w, this.shipped, this.#serverUrl());
    if (!this.#chart)
      return 'this server has no worker chart to upgrade with (set upgradeChart to the chart directory)';
    const { chartVersion, helmRelease, namespace } = installationOf(w.metadata);
    if (!upgrade.available)
      return `it runs worker ${w.version}${chartVersion ? ` on chart ${chartVersion}` : ''}, which is not behind what this server ships (worker ${this.#chart.workerVersion}, chart ${this.#chart.chartVersion})`;
    if (w.executor !== 'kubernetes')
      return `it is a ${w.executor} worker, which its operator upgrades: ${upgrade.command}`;
    if (!helmRelease || !namespace)
      return "it does not say which Helm release installed it (a chart from before server-driven upgrades): upgrade it once with helm upgrade, the next upgrades are the server's";
    if (!isOnline(w, Date.now(), this.#offlineAfterMs)) return 'it is offline, and a worker runs its own upgrade';
    return undefined;
  }

  async #underWay(workerIds: readonly string[]): Promise<Map<string, string>> {
    const rows = await this.#db
      .selectFrom('operations')
      .innerJoin('tasks', 'tasks.id', 'operations.task_id')
      .select(['operations.worker_id', 'tasks.id'])
      .where('tasks.kind', '=', WORKER_UPGRADE_TASK_KIND)
      .where('tasks.state', 'in', ACTIVE_TASK_STATES)
      .where('operations.worker_id', 'in', workerIds)
      .execute();
    return new Map(rows.map((r) => [r.worker_id!, r.id]));
  }

  async #start(w: { id: string; name: string; version: string; metadata: string }): Promise<string> {
    const chart = this.#chart!;
    const { chartVersion, helmRelease, namespace, drainSeconds } = installationOf(w.metadata);
    // The new worker starts only once the old one drained (Recreate): the wait for it includes the drain.
    const readySeconds = this.#readyTimeoutSeconds + drainSeconds;
    const fromChart = chartVersion ?? 'unknown';
    const fromChartVersion = parseSemver(fromChart);
    // A release of an unknown chart version gets every migration: each one moves only values still at their old place.
    const migrations = chart.migrations.filter((m) => {
      const since = parseSemver(m.since)!;
      return fromChartVersion === undefined || compareSemver(fromChartVersion, since) < 0;
    });
    const timeoutSeconds = readySeconds * 2 + UPGRADE_SLACK_SECONDS;
    const t = Date.now();
    const operationId = newOperationId();
    const context: UpgradeContext = {
      workerId: w.id,
      workerName: w.name,
      toWorker: chart.workerVersion,
      toChart: chart.chartVersion,
    };
    const taskId = await this.#db.transaction().execute(async (trx) => {
      const id = await insertTask(
        { db: trx, box: this.#box },
        {
          kind: WORKER_UPGRADE_TASK_KIND,
          description: `Upgrade worker ${w.name} to ${chart.workerVersion}`,
          context,
          createdAt: t,
        },
      );
      const operation: Operation = {
        id: operationId,
        taskId: id,
        step: { index: 0, name: 'Upgrade' },
        script: {
          syntax: 'sh',
          body: upgradeScript({
            release: helmRelease!,
            namespace: namespace!,
            chartName: chart.name,
            fromChart,
            toChart: chart.chartVersion,
            fromWorker: w.version,
            toWorker: chart.workerVersion,
            readyTimeoutSeconds: readySeconds,
            migrations,
          }),
        },
        variables: [],
        packages: [
          {
            reference: CHART_PACKAGE_REFERENCE,
            packageId: WORKER_CHART_PACKAGE_ID,
            version: chart.chartVersion,
            format: 'tar.gz',
            sha256: chart.sha256,
            downloadPath: agentRoutes.workerChart(chart.chartVersion),
          },
        ],
        timeoutSeconds,
        purpose: 'worker-upgrade',
      };
      await trx.updateTable('tasks').set({ state: 'running', started_at: t }).where('id', '=', id).execute();
      await trx
        .insertInto('operations')
        .values(
          newOperationRow({
            id: operationId,
            task_id: id,
            step_index: 0,
            step_name: 'Upgrade',
            target_id: null,
            target_name: null,
            // In no pool's queue: it is leased to its worker from the start.
            pool_id: '',
            state: 'leased',
            worker_id: w.id,
            leased_at: t,
            lease_expires_at: t + timeoutSeconds * 1000,
            payload: this.#box.sealJson(operation),
            created_at: t,
            queued_at: t,
          }),
        )
        .execute();
      return id;
    });
    await this.#taskLog.system(
      taskId,
      `Upgrading worker ${w.name} from ${w.version} (chart ${fromChart}) to ${chart.workerVersion} (chart ${chart.chartVersion}): Helm release ${helmRelease} in namespace ${namespace}`,
    );
    this.#workers.wakeWorker(w.id);
    return taskId;
  }

  /** Ends the task once its operation ended: succeeded only when the worker came back at the new version. */
  async advance(taskId: string): Promise<void> {
    const task = await this.#db
      .selectFrom('tasks')
      .select(['state', 'context'])
      .where('id', '=', taskId)
      .executeTakeFirstOrThrow();
    if (!(ACTIVE_TASK_STATES as readonly string[]).includes(task.state)) return;
    const op = await this.#db
      .selectFrom('operations')
      .select(['state', 'outcome', 'message', 'output_variables'])
      .where('task_id', '=', taskId)
      .executeTakeFirstOrThrow();
    if (op.state !== 'finished') return;
    const context = this.#box.openJson<UpgradeContext>(task.context);
    if (op.outcome !== 'succeeded') {
      const variables = op.output_variables ? this.#box.openJson<OutputVariable[]>(op.output_variables) : [];
      const reason =
        variables.find((v) => v.name === UPGRADE_FAILURE_VARIABLE)?.value ?? op.message ?? `the upgrade ${op.outcome}`;
      return this.#end(taskId, false, `The upgrade of worker ${context.workerName} failed: ${reason}`);
    }
    const worker = await this.#db
      .selectFrom('workers')
      .select(['version', 'metadata'])
      .where('id', '=', context.workerId)
      .executeTakeFirst();
    if (!worker) return this.#end(taskId, false, `Worker ${context.workerName} was deleted during its upgrade`);
    const chartVersion = chartVersionOf(worker);
    if (worker.version !== context.toWorker || (chartVersion !== undefined && chartVersion !== context.toChart))
      return this.#end(
        taskId,
        false,
        `helm upgrade finished, but worker ${context.workerName} reports version ${worker.version}${chartVersion ? ` on chart ${chartVersion}` : ''}, not ${context.toWorker} on chart ${context.toChart}: do its values pin another image?`,
      );
    return this.#end(
      taskId,
      true,
      `Worker ${context.workerName} is back with the same identity at version ${worker.version}${chartVersion ? ` on chart ${chartVersion}` : ''}: upgraded`,
    );
  }

  #end(taskId: string, succeeded: boolean, message: string): Promise<void> {
    return endTask({ db: this.#db, taskLog: this.#taskLog, log: this.#log }, taskId, succeeded, message);
  }
}

import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Operation, OperationResult } from '@longshore/protocol';
import type { Logger } from 'pino';
import { rejected, type Executor, type OperationSink, type ResumePoint } from '../executor.js';
import { stopNotice, stoppedResult, type StopReason } from '../scriptResult.js';
import type { WorkerMetrics } from '../../health/workerMetrics.js';
import { stageWorkspace, type WorkspaceContext } from '../../workspace.js';
import type { KubeApi, WatchHandle } from './kubeApi.js';
import { scriptPodNames, workerSelector } from './kubeNames.js';
import { kubernetesHealth, type ExecutorHealth } from './kubernetesHealth.js';
import { OrphanSweeper } from './orphanSweeper.js';
import { PendingExplainer } from './pendingExplainer.js';
import { PodUsageSampler } from './podUsageSampler.js';
import { followScriptPod } from './scriptPodFollow.js';
import { createScriptObject, deleteScriptObjects, patiently } from './scriptPodObjects.js';
import { scriptContainerState, scriptStartTime, started } from './scriptPodStatus.js';
import {
  ScriptPodRejection,
  buildScriptPod,
  isScriptPodRejection,
  type PackageAccess,
  type ServerInfo,
} from './scriptPodSpec.js';
import type { ScriptPodsConfig } from './scriptPodsConfig.js';

/** 128 + SIGKILL: how a script the kernel killed for its memory ends. */
const SIGKILLED = 137;

/**
 * Issues the credential a script pod's init container downloads packages with: scoped to one
 * operation and short-lived, so a leaked pod Secret exposes that operation's packages only.
 */
export interface PackageTokenIssuer {
  issue(operation: Operation, signal: AbortSignal): Promise<PackageAccess>;
}

export interface KubernetesExecutorOptions {
  api: KubeApi;
  config: ScriptPodsConfig;
  workspace: WorkspaceContext;
  server: ServerInfo;
  packageTokens?: PackageTokenIssuer;
  metrics?: WorkerMetrics;
  log: Logger;
  now?: () => number;
  /** The chart's version, shown with the worker's health. */
  chartVersion?: string | undefined;
}

interface Run {
  readonly operation: Operation;
  readonly sink: OperationSink;
  readonly podName: string;
  readonly abort: AbortController;
  pending: boolean;
  pod?: V1Pod;
  gone: boolean;
  events: CoreV1Event[];
  stopped?: StopReason;
  wake?: () => void;
  /** Resumed after a worker restart: the server has the script's lines up to here. */
  resume?: ResumePoint;
  /** The workspace Secret has the pod as its owner, so deleting the pod removes it. */
  secretOwned: boolean;
  /** Left running for the worker's successor: stop following, touch nothing. */
  left?: boolean;
}

/**
 * Runs each operation in its own script pod: Secret (workspace) first, then the pod, then the
 * Secret's ownerReference to the pod. Secret first because a pod whose Secret is missing sits
 * in FailedMount with the kubelet's back-off; if the worker dies between the two, the sweeper
 * finds the Secret by its labels. Status comes from one shared pod watch and one event watch.
 */
export class KubernetesExecutor implements Executor {
  readonly kind = 'kubernetes' as const;
  private readonly runs = new Map<string, Run>();
  private readonly byPod = new Map<string, Run>();
  private watches: WatchHandle[] | undefined;
  private slotWaiters: (() => void)[] = [];
  /** Runs holding a slot: from pod creation to clean-up. */
  private readonly active = new Set<Run>();
  /** Left over from the last run of this worker, until the worker resumes or discards them: the sweeper keeps off. */
  private readonly undecided = new Set<string>();
  /** Ended, result not yet reported: their pods stay, by operation. */
  private readonly unreleased = new Map<string, { grace: number; secretOwned: boolean }>();
  private readonly capacityListeners: (() => void)[] = [];
  private readonly sweeper: OrphanSweeper;
  private readonly now: () => number;

  constructor(private readonly options: KubernetesExecutorOptions) {
    this.now = options.now ?? Date.now;
    this.sweeper = new OrphanSweeper({
      api: options.api,
      workerName: options.config.workerName,
      intervalMs: options.config.sweepIntervalMs,
      claimed: (id) => this.runs.has(id) || this.undecided.has(id) || this.unreleased.has(id),
      log: options.log,
    });
    options.metrics?.observe({ pendingPods: () => this.pendingPods });
  }

  /** Operations not yet past their pod's Pending phase (preparing, waiting for a slot, a node or an image). */
  get pendingPods(): number {
    let pending = 0;
    for (const run of this.runs.values()) if (run.pending) pending++;
    return pending;
  }

  capacity(): number {
    const { maxConcurrentOperations, maxPendingPods } = this.options.config;
    return Math.max(0, Math.min(maxConcurrentOperations - this.runs.size, maxPendingPods - this.pendingPods));
  }

  onCapacityChange(listener: () => void): void {
    this.capacityListeners.push(listener);
  }

  /** Also starts the periodic sweeper: from here on the worker decides about every left-over operation. */
  async leftovers(signal: AbortSignal): Promise<string[]> {
    const found = (await this.sweeper.operations(signal)).filter((id) => !this.runs.has(id));
    for (const id of found) this.undecided.add(id);
    this.sweeper.start();
    return found;
  }

  async discard(operationId: string, signal: AbortSignal): Promise<void> {
    try {
      await this.sweeper.remove(operationId, signal);
    } finally {
      this.undecided.delete(operationId);
    }
  }

  async start(operation: Operation, sink: OperationSink, resume?: ResumePoint): Promise<OperationResult> {
    const names = scriptPodNames(operation.id);
    const run: Run = {
      operation,
      sink,
      podName: names.pod,
      abort: new AbortController(),
      pending: true,
      gone: false,
      events: [],
      secretOwned: false,
      ...(resume ? { resume } : {}),
    };
    const timer = setTimeout(() => this.stop(run, 'timed_out'), Math.min(operation.timeoutSeconds * 1000, 2 ** 31 - 1));
    this.runs.set(operation.id, run);
    this.undecided.delete(operation.id);
    this.byPod.set(names.pod, run);
    try {
      const failure = resume ? await this.adopt(run) : await this.launch(run);
      if (failure) return failure;
      sink.scriptPod(run.podName);
      const createdAt = run.pod?.metadata?.creationTimestamp;
      const pendingFailure = await this.waitWhilePending(run);
      run.pending = false;
      this.wakeSlotWaiters();
      if (pendingFailure) return { outcome: 'failed', message: pendingFailure, outputVariables: [] };
      if (!resume && createdAt && !run.stopped && !run.gone)
        this.options.metrics?.podStarted((this.now() - new Date(createdAt).getTime()) / 1000);
      if (run.pod && !run.stopped && !run.gone) sink.scriptStarted(scriptStartTime(run.pod) ?? this.now());
      const sampler = new PodUsageSampler(
        this.options.api,
        run.podName,
        this.options.config.usageSampleIntervalMs,
        this.options.log,
        this.now,
      );
      sampler.start();
      const result = await followScriptPod(run, this.options);
      const usage = await sampler.stop(result.exitCode === SIGKILLED ? await this.terminatedPod(run) : run.pod);
      return usage ? { ...result, usage } : result;
    } finally {
      clearTimeout(timer);
      this.active.delete(run);
      this.runs.delete(operation.id);
      this.byPod.delete(names.pod);
      this.wakeSlotWaiters();
      run.abort.abort();
      this.unreleased.set(operation.id, {
        grace: run.stopped ? this.options.config.deleteGracePeriodSeconds : 0,
        secretOwned: run.secretOwned,
      });
    }
  }

  /**
   * The pod and Secret go only once the result is safe with the server: a worker killed between
   * the script's end and its report finds the pod again on restart and reads the result anew.
   */
  async release(operationId: string): Promise<void> {
    const left = this.unreleased.get(operationId);
    if (left === undefined) return;
    await deleteScriptObjects(this.options, scriptPodNames(operationId), left.grace, left.secretOwned);
    this.unreleased.delete(operationId);
  }

  /** A new operation: its Secret, then its pod. A result when it ends before the pod exists. */
  private async launch(run: Run): Promise<OperationResult | undefined> {
    const { api, config } = this.options;
    const { operation, sink } = run;
    const names = scriptPodNames(operation.id);
    let built;
    try {
      const packageAccess =
        operation.packages.length && !operation.packages.every((p) => p.format === 'docker-image')
          ? await this.packageAccess(operation, run)
          : undefined;
      built = buildScriptPod({
        config,
        operation,
        workspace: stageWorkspace(operation, this.options.workspace),
        secretName: names.secret,
        server: this.options.server,
        ...(packageAccess ? { packageAccess } : {}),
      });
    } catch (error) {
      if (isScriptPodRejection(error)) return rejected(error.message);
      throw error;
    }
    await this.ensureWatches();
    await this.slot(run);
    if (run.stopped) return stoppedResult(run.operation, run.stopped);
    const giveUp = () => run.stopped !== undefined;
    const secretFailure = await createScriptObject(
      'Secret',
      () => api.createSecret(built.secret, { signal: run.abort.signal }),
      { giveUp },
    );
    if (typeof secretFailure === 'string') return { outcome: 'failed', message: secretFailure, outputVariables: [] };
    const pod = await createScriptObject('pod', () => api.createPod(built.pod, { signal: run.abort.signal }), {
      giveUp,
      existing: () => api.readPod(run.podName),
    });
    if (typeof pod === 'string' || pod === undefined)
      return {
        outcome: 'failed',
        message: pod ?? `The script pod ${names.pod} exists but cannot be read`,
        outputVariables: [],
      };
    run.pod ??= pod;
    sink.line('system', `Created script pod ${names.pod} (image ${built.pod.spec!.containers[0]!.image})`, this.now());
    const uid = pod.metadata?.uid;
    if (uid) {
      await api
        .setSecretOwner(names.secret, { name: names.pod, uid }, { signal: run.abort.signal })
        .then(() => (run.secretOwned = true))
        .catch((e: unknown) =>
          this.options.log.warn(
            { err: e, pod: names.pod },
            'cannot set the owner of the workspace Secret; it is deleted with an explicit call instead',
          ),
        );
    }
    return undefined;
  }

  /**
   * An operation an earlier run of this worker started: its pod is found, never created again
   * (the script must not run twice), and its log is read from the start, dropping the lines the
   * server already has by their numbers. A pod that is gone makes the operation lost.
   */
  private async adopt(run: Run): Promise<OperationResult | undefined> {
    this.active.add(run);
    await this.ensureWatches();
    run.pod ??= await patiently(
      () => this.options.api.readPod(run.podName, { signal: run.abort.signal }),
      () => run.stopped !== undefined,
    );
    if (!run.pod) {
      run.gone = true;
      return {
        outcome: 'lost',
        message: `The script pod ${run.podName} was gone when the worker restarted: the script may or may not have finished`,
        outputVariables: [],
      };
    }
    run.sink.line(
      'system',
      `The worker restarted; resuming script pod ${run.podName} after line ${run.resume?.lastSource ?? 0} of its output`,
      this.now(),
    );
    return undefined;
  }

  cancel(operationId: string): void {
    const run = this.runs.get(operationId);
    if (run) this.stop(run, 'cancelled');
  }

  leave(operationId: string): boolean {
    const run = this.runs.get(operationId);
    // Before its pod exists there is nothing for a successor to resume: it ends as any other.
    if (!run?.pod || run.stopped) return false;
    run.left = true;
    run.abort.abort();
    run.wake?.();
    return true;
  }

  health(signal: AbortSignal): Promise<ExecutorHealth> {
    const { api, config, chartVersion, now } = this.options;
    return kubernetesHealth({ api, config, chartVersion, ...(now ? { now } : {}) }, signal);
  }

  /** Ends the shared watches and the sweeper (the worker's shutdown, after its operations ended). */
  async close(): Promise<void> {
    const watches = this.watches ?? [];
    this.watches = undefined;
    await Promise.all([...watches.map((w) => w.stop()), this.sweeper.stop()]);
  }

  private stop(run: Run, why: StopReason): void {
    if (run.stopped) return;
    run.stopped = why;
    run.sink.line('system', stopNotice(run.operation, why, 'deleting the script pod'), this.now());
    // The pod gets its grace period: the bootstrap forwards TERM and writes its end marker, which the log reader still reads.
    void this.options.api
      .deletePod(run.podName, this.options.config.deleteGracePeriodSeconds)
      .catch((e: unknown) => this.options.log.warn({ err: e, pod: run.podName }, 'cannot delete the script pod'));
    run.wake?.();
  }

  private async packageAccess(operation: Operation, run: Run): Promise<PackageAccess> {
    if (!this.options.packageTokens) {
      throw new ScriptPodRejection(
        'packages-unsupported',
        'This Kubernetes worker cannot give script pods access to packages yet (no package token issuer); run steps with packages on a local worker',
      );
    }
    return this.options.packageTokens.issue(operation, run.abort.signal);
  }

  private async ensureWatches(): Promise<void> {
    if (this.watches) return;
    const { api, config, log } = this.options;
    this.watches = [
      api.watchPods(workerSelector(config.workerName), {
        event: (type, pod) => {
          const run = this.byPod.get(pod.metadata?.name ?? '');
          if (!run) return;
          if (type === 'DELETED') run.gone = true;
          else run.pod = pod;
          run.wake?.();
        },
        error: (err) => log.warn({ err }, 'the pod watch broke; re-establishing it'),
      }),
      api.watchPodEvents({
        event: (_type, event) => {
          const run = this.byPod.get(event.involvedObject.name ?? '');
          if (!run || !run.pending) return;
          run.events.push(event);
          run.wake?.();
        },
        error: (err) => log.warn({ err }, 'the event watch broke; re-establishing it'),
      }),
    ];
    await Promise.all(this.watches.map((w) => w.ready));
  }

  /** Waits for room under maxConcurrentOperations and maxPendingPods, telling the task log why it waits. */
  private async slot(run: Run): Promise<void> {
    const { maxConcurrentOperations, maxPendingPods } = this.options.config;
    let told = false;
    for (;;) {
      const pending = [...this.active].filter((r) => r.pending).length;
      if (this.active.size < maxConcurrentOperations && pending < maxPendingPods) {
        this.active.add(run);
        return;
      }
      if (!told) {
        told = true;
        run.sink.line(
          'system',
          `Waiting for a free slot: ${this.active.size} script pods are active, ${pending} of them pending (maxConcurrentOperations ${maxConcurrentOperations}, maxPendingPods ${maxPendingPods})`,
          this.now(),
        );
      }
      await new Promise<void>((resolve) => {
        this.slotWaiters.push(resolve);
        run.wake = resolve;
      });
      if (run.stopped) return;
    }
  }

  private wakeSlotWaiters(): void {
    for (const wake of this.slotWaiters.splice(0)) wake();
    for (const listener of this.capacityListeners) listener();
  }

  /**
   * The pod once its script container is terminated: the script's end marker can arrive before the
   * watch brings the container's end, and only that says whether the kernel OOM-killed it. Read a
   * few times, briefly; the last seen state when it does not come.
   */
  private async terminatedPod(run: Run): Promise<V1Pod | undefined> {
    let pod = run.pod;
    for (let tries = 0; tries < 10 && pod && scriptContainerState(pod) !== 'terminated'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      pod = (await this.options.api.readPod(run.podName).catch(() => undefined)) ?? pod;
    }
    return pod;
  }

  /** Until the script container started: explains the wait in the task log; a message if it must fail. */
  private async waitWhilePending(run: Run): Promise<string | undefined> {
    const explainer = new PendingExplainer(this.options.config, this.now());
    for (;;) {
      if (run.stopped || run.gone || run.left) return undefined;
      const pod = run.pod;
      if (pod && started(pod)) return undefined;
      let deadline = this.now() + 60_000;
      if (pod) {
        const update = explainer.update(pod, run.events, this.now());
        for (const line of update.lines) run.sink.line('system', line, this.now());
        if (update.verdict.kind === 'fail') return update.verdict.message;
        deadline = update.verdict.deadline;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, Math.min(deadline - this.now(), 2 ** 31 - 1)));
        run.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

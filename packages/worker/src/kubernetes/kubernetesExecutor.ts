import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { isErrorCode, type Operation, type OperationResult, type OutputVariable } from '@longshore/protocol';
import type { Logger } from 'pino';
import { BootstrapOutput } from '../bootstrapOutput.js';
import { rejected, type Executor, type OperationSink } from '../executors/executor.js';
import { isTransient } from '../retry.js';
import { operationSecrets, stageWorkspace, type WorkspaceContext } from '../workspace.js';
import type { KubeApi, WatchHandle } from './kubeApi.js';
import { SCRIPT_CONTAINER, scriptPodNames, workerSelector } from './kubeNames.js';
import { PendingExplainer } from './pendingExplainer.js';
import { PodLogReader, type ContainerState, type LogReadEnd } from './podLogReader.js';
import { ScriptPodRejection, buildScriptPod, isScriptPodRejection, type PackageAccess, type ServerInfo } from './scriptPodSpec.js';
import type { ScriptPodsConfig } from './scriptPodsConfig.js';

/**
 * Issues the credential a script pod's init container downloads packages with: scoped to one
 * operation and short-lived, so a leaked pod Secret exposes that operation's packages only.
 * The server side does not exist yet (see the report); until it does, nothing with packages runs here.
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
  log: Logger;
  now?: () => number;
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
  stopped?: 'cancelled' | 'timed_out';
  wake?: () => void;
}

const CREATE_ATTEMPTS = 4;

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
  private readonly now: () => number;

  constructor(private readonly options: KubernetesExecutorOptions) {
    this.now = options.now ?? Date.now;
  }

  async start(operation: Operation, sink: OperationSink): Promise<OperationResult> {
    const { api, config } = this.options;
    const names = scriptPodNames(operation.id);
    const run: Run = { operation, sink, podName: names.pod, abort: new AbortController(), pending: true, gone: false, events: [] };
    const timer = setTimeout(() => this.stop(run, 'timed_out'), Math.min(operation.timeoutSeconds * 1000, 2 ** 31 - 1));
    this.runs.set(operation.id, run);
    this.byPod.set(names.pod, run);
    try {
      let built;
      try {
        const packageAccess = operation.packages.length && !operation.packages.every((p) => p.format === 'docker-image') ? await this.packageAccess(operation, run) : undefined;
        built = buildScriptPod({ config, operation, workspace: stageWorkspace(operation, this.options.workspace), secretName: names.secret, server: this.options.server, ...(packageAccess ? { packageAccess } : {}) });
      } catch (error) {
        if (isScriptPodRejection(error)) return rejected(error.message);
        throw error;
      }
      await this.ensureWatches();
      await this.slot(run);
      if (run.stopped) return stopped(run, []);
      const secretFailure = await this.create(run, () => api.createSecret(built.secret, { signal: run.abort.signal }), 'Secret');
      if (typeof secretFailure === 'string') return { outcome: 'failed', message: secretFailure, outputVariables: [] };
      const pod = await this.create(run, () => api.createPod(built.pod, { signal: run.abort.signal }), 'pod');
      if (typeof pod === 'string' || pod === undefined) return { outcome: 'failed', message: pod ?? `The script pod ${names.pod} exists but cannot be read`, outputVariables: [] };
      run.pod ??= pod;
      sink.line('system', `Created script pod ${names.pod} (image ${built.pod.spec!.containers[0]!.image})`, this.now());
      const uid = pod.metadata?.uid;
      if (uid) await api.setSecretOwner(names.secret, { name: names.pod, uid }, { signal: run.abort.signal }).catch((e: unknown) => this.options.log.warn({ err: e, pod: names.pod }, 'cannot set the owner of the workspace Secret; the sweeper will remove it'));
      const failure = await this.waitWhilePending(run);
      run.pending = false;
      this.wakeSlotWaiters();
      if (failure) return { outcome: 'failed', message: failure, outputVariables: [] };
      return await this.follow(run);
    } finally {
      clearTimeout(timer);
      this.active.delete(run);
      this.wakeSlotWaiters();
      this.runs.delete(operation.id);
      this.byPod.delete(names.pod);
      run.abort.abort();
      await this.cleanUp(names, run.stopped ? config.deleteGracePeriodSeconds : 0);
    }
  }

  cancel(operationId: string): void {
    const run = this.runs.get(operationId);
    if (run) this.stop(run, 'cancelled');
  }

  /** Ends the shared watches (the worker's shutdown, after its operations ended). */
  async close(): Promise<void> {
    const watches = this.watches ?? [];
    this.watches = undefined;
    await Promise.all(watches.map((w) => w.stop()));
  }

  private stop(run: Run, why: 'cancelled' | 'timed_out'): void {
    if (run.stopped) return;
    run.stopped = why;
    run.sink.line('system', why === 'cancelled' ? 'The operation was cancelled; deleting the script pod' : `The operation reached its timeout of ${run.operation.timeoutSeconds} seconds; deleting the script pod`, this.now());
    // The pod gets its grace period: the bootstrap forwards TERM and writes its end marker, which the log reader still reads.
    void this.options.api.deletePod(run.podName, this.options.config.deleteGracePeriodSeconds).catch((e: unknown) => this.options.log.warn({ err: e, pod: run.podName }, 'cannot delete the script pod'));
    run.wake?.();
  }

  private async packageAccess(operation: Operation, run: Run): Promise<PackageAccess> {
    if (!this.options.packageTokens) {
      throw new ScriptPodRejection('packages-unsupported', 'This Kubernetes worker cannot give script pods access to packages yet (no package token issuer); run steps with packages on a local worker');
    }
    return this.options.packageTokens.issue(operation, run.abort.signal);
  }

  /** The object, or a message for a `failed` outcome. A CONFLICT is a repeated start of the same operation: the existing object is used. */
  private async create<T>(run: Run, call: () => Promise<T>, what: string): Promise<T | string | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (isErrorCode(error, 'CONFLICT')) return what === 'pod' ? ((await this.options.api.readPod(run.podName)) as T | undefined) : undefined;
        if (!isTransient(error) || attempt >= CREATE_ATTEMPTS || run.stopped) return `The script ${what} could not be created: ${(error as Error).message}`;
        await sleep(250 * 2 ** attempt);
      }
    }
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
        run.sink.line('system', `Waiting for a free slot: ${this.active.size} script pods are active, ${pending} of them pending (maxConcurrentOperations ${maxConcurrentOperations}, maxPendingPods ${maxPendingPods})`, this.now());
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
  }

  /** Until the script container started: explains the wait in the task log; a message if it must fail. */
  private async waitWhilePending(run: Run): Promise<string | undefined> {
    const explainer = new PendingExplainer(this.options.config, this.now());
    for (;;) {
      if (run.stopped || run.gone) return undefined;
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

  private async follow(run: Run): Promise<OperationResult> {
    const variables = new Map<string, OutputVariable>();
    const output = new BootstrapOutput(
      {
        line: (stream, text, ts, source, level) => run.sink.line(stream, text, ts, source, level),
        progress: (percentage, message) => run.sink.progress(percentage, message),
        outputVariable: (variable) => variables.set(variable.name, variable),
        end: () => {},
      },
      { secrets: operationSecrets(run.operation) },
    );
    let end: LogReadEnd = 'gone';
    if (!run.gone && !(run.stopped && !run.pod?.spec?.nodeName)) {
      const reader = new PodLogReader({
        api: this.options.api,
        podName: run.podName,
        container: SCRIPT_CONTAINER,
        output,
        signal: run.abort.signal,
        containerState: async () => containerState(run),
        diagnostic: (message, err) => this.options.log.info({ err, pod: run.podName }, message),
      });
      end = await reader.read();
    }
    const outputVariables = [...variables.values()];
    if (run.stopped) return stopped(run, outputVariables);
    if (output.exitCode !== undefined) {
      return output.exitCode === 0
        ? { outcome: 'succeeded', exitCode: 0, message: 'The script succeeded', outputVariables }
        : { outcome: 'failed', exitCode: output.exitCode, message: `The script exited with code ${output.exitCode}`, outputVariables };
    }
    if (end === 'gone' || run.gone) {
      return { outcome: 'lost', message: `The script pod ${run.podName} vanished before the script finished (deleted, evicted, or its node went away)`, outputVariables };
    }
    return { outcome: 'failed', message: terminationMessage(run.pod), outputVariables };
  }

  private async cleanUp(names: { pod: string; secret: string }, grace: number): Promise<void> {
    const { api, log } = this.options;
    await api.deletePod(names.pod, grace).catch((err: unknown) => log.warn({ err, pod: names.pod }, 'cannot delete the script pod; the sweeper will'));
    await api.deleteSecret(names.secret).catch((err: unknown) => log.warn({ err, secret: names.secret }, 'cannot delete the workspace Secret; the sweeper will'));
  }
}

function stopped(run: Run, outputVariables: OutputVariable[]): OperationResult {
  return run.stopped === 'cancelled'
    ? { outcome: 'cancelled', message: 'The operation was cancelled', outputVariables }
    : { outcome: 'timed_out', message: `The operation did not finish within its timeout of ${run.operation.timeoutSeconds} seconds`, outputVariables };
}

function scriptStatus(pod: V1Pod | undefined): V1ContainerStatus | undefined {
  return pod?.status?.containerStatuses?.find((c) => c.name === SCRIPT_CONTAINER);
}

function started(pod: V1Pod): boolean {
  const state = scriptStatus(pod)?.state;
  return !!(state?.running || state?.terminated) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function containerState(run: Run): ContainerState {
  if (run.gone) return 'gone';
  const state = scriptStatus(run.pod)?.state;
  if (state?.terminated || run.pod?.status?.phase === 'Succeeded' || run.pod?.status?.phase === 'Failed') return 'terminated';
  return state?.running ? 'running' : 'waiting';
}

/** Why a pod ended without the bootstrap's end marker, in the kubelet's words. */
function terminationMessage(pod: V1Pod | undefined): string {
  const terminated = scriptStatus(pod)?.state?.terminated;
  if (pod?.status?.reason === 'DeadlineExceeded') return 'The script pod reached its activeDeadlineSeconds and was stopped by Kubernetes';
  if (terminated?.reason === 'OOMKilled') return `The script was killed for using more memory than its limit (${pod?.spec?.containers[0]?.resources?.limits?.memory ?? 'unknown'}); raise the step's memory limit`;
  const init = pod?.status?.initContainerStatuses?.find((c) => c.state?.terminated && c.state.terminated.exitCode !== 0);
  if (init) return `The init container '${init.name}' failed with exit code ${init.state!.terminated!.exitCode}${init.state!.terminated!.message ? `: ${init.state!.terminated!.message}` : ''}`;
  if (terminated) return `The script container exited with code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''} without the bootstrap's end marker: the script's result is unknown (see the log)`;
  return `The script pod ended (${pod?.status?.phase ?? 'unknown phase'}${pod?.status?.message ? `: ${pod.status.message}` : ''}) without the bootstrap's end marker`;
}


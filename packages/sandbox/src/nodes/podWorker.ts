// One pod on a virtual node, run as the kubelet runs it: stage volumes, "pull" images (look
// them up in the table), run init containers in order, then the containers with their
// restart policy and back-off, enforce activeDeadlineSeconds, stop with the grace period on
// deletion (SIGTERM, then SIGKILL) and finally delete the pod with grace 0. Every change of
// state is written to pods/status through the API.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { apiPath, type K8sObject } from '../client/kubeClient.js';
import { bytes, cpuMilli } from '../scheduler/resources.js';
import { launchContainer, type ContainerExit, type RunningContainer } from './container.js';
import { ContainerProbes } from './containerProbes.js';
import { buildEnv, EnvError, type Obj } from './env.js';
import { containerMounts } from './containerMounts.js';
import { portInUseMessage, portsInUse } from './hostPorts.js';
import { pullImages } from './imagePulls.js';
import { containerArgv, containerWorkingDir, IMAGE_PROGRAMS_DIR, lookupImage, qualifiedImage } from './images.js';
import { computePodStatus, terminatedReason, type ContainerStatus, type PodRuntime } from './podStatus.js';
import { stageVolumes, VolumeError } from './volumes.js';
import type { NodeRuntime } from './nodeRuntime.js';
import type { Cgroup } from './cgroups.js';
import type { Mount } from './mountPlan.js';

const iso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());
/** The kubelet's limits for a message taken from the log (MaxContainerTerminationMessageLogLines / LogLength). */
const TERMINATION_LOG_LINES = 80;
const TERMINATION_LOG_BYTES = 2048;
/** A container while its process runs, with what an exec into it needs. */
export interface ContainerInRun {
  proc: RunningContainer;
  cgroup?: Cgroup;
  /** Settles once the container is out of the running map. */
  ended: Promise<ContainerExit>;
  env: Record<string, string>;
  workingDir: string;
  mounts: Mount[];
  programs?: Record<string, string[]>;
  stdinOnce: boolean;
  /** The command runs in its isolation: only then can streams reach it. */
  started: boolean;
}

const hex = (s: string): string => Buffer.from(s).toString('hex').padEnd(64, '0').slice(0, 64);

export class PodWorker {
  private pod: K8sObject;
  private readonly rt: PodRuntime;
  /** Each container while its process runs; `ended` settles once it is out of this map. */
  private readonly running = new Map<string, ContainerInRun>();
  private terminating = false;
  private finished = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private readonly dir: string;
  readonly done: Promise<void>;

  constructor(
    private readonly node: NodeRuntime,
    pod: K8sObject,
  ) {
    this.pod = pod;
    this.dir = join(node.podsDir, String(pod.metadata.uid));
    const spec = (pod.spec ?? {}) as Obj;
    const waiting = (c: Obj): ContainerStatus => ({
      name: String(c.name),
      image: String(c.image),
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
    });
    this.rt = {
      init: [],
      containers: ((spec.containers ?? []) as Obj[]).map(waiting),
      hostIP: node.hostIP,
      podIP: node.nextPodIP(),
      sandboxReady: false,
      startTime: iso(),
    };
    if (((spec.initContainers ?? []) as Obj[]).length) {
      this.rt.init = ((spec.initContainers ?? []) as Obj[]).map((c) => ({
        ...waiting(c),
        state: { waiting: { reason: 'PodInitializing' } },
      }));
      for (const c of this.rt.containers) c.state = { waiting: { reason: 'PodInitializing' } };
    }
    this.done = this.run().catch(() => undefined);
  }

  get namespace(): string {
    return String(this.pod.metadata.namespace);
  }
  get name(): string {
    return this.pod.metadata.name;
  }
  get uid(): string {
    return String(this.pod.metadata.uid);
  }

  /** A container of this pod whose process runs now. */
  runningContainer(name: string): ContainerInRun | undefined {
    const c = this.running.get(name);
    return c?.started ? c : undefined;
  }

  /** Whether the pod's sandbox is set up and some container runs (what port-forward needs). */
  get isRunning(): boolean {
    return this.rt.sandboxReady && !this.terminating && this.running.size > 0;
  }

  /** The container a request without a name means: the one `kubectl.kubernetes.io/default-container` names, else the first. */
  defaultContainer(): string {
    const annotations = (this.pod.metadata.annotations ?? {}) as Record<string, string>;
    const named = annotations['kubectl.kubernetes.io/default-container'];
    return named ?? String((((this.pod.spec ?? {}) as Obj).containers as Obj[] | undefined)?.[0]?.name ?? '');
  }

  /** Usage of each running container (for metrics.k8s.io). */
  usage(): { name: string; cpuNanos: number; memoryBytes: number }[] {
    return [...this.running].flatMap(([name, r]) => {
      const u = r.cgroup?.usage() ?? this.node.procUsage(r.proc.pid);
      return u ? [{ name, ...u }] : [];
    });
  }

  /** A newer version of the pod from the watch: notices deletion. */
  update(pod: K8sObject): void {
    this.pod = { ...pod, status: this.pod.status };
    if (pod.metadata.deletionTimestamp && !this.terminating)
      void this.terminate(Number(pod.metadata.deletionGracePeriodSeconds ?? 30), true);
  }

  /** Stops every container (node shutdown): SIGTERM, SIGKILL after `graceMs`. */
  async terminate(graceSeconds: number, deleteAfter: boolean): Promise<void> {
    this.terminating = true;
    for (const [name, r] of this.running) {
      void this.event('Normal', 'Killing', `Stopping container ${name}`);
      r.proc.signal('SIGTERM');
    }
    const kill = setTimeout(
      () => {
        for (const r of this.running.values()) r.proc.signal('SIGKILL');
      },
      Math.max(0, graceSeconds) * 1000,
    );
    kill.unref();
    // On `ended`, not the process's exit: an exited container still in the map would make this
    // loop spin on settled promises and starve the event loop.
    while (this.running.size) await Promise.all([...this.running.values()].map((r) => r.ended));
    clearTimeout(kill);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    await this.writeStatus();
    rmSync(this.dir, { recursive: true, force: true });
    if (deleteAfter) {
      const { namespace, name, uid } = this.pod.metadata;
      await this.node.client
        .request('DELETE', apiPath('v1', 'pods', namespace, name), {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          gracePeriodSeconds: 0,
          preconditions: { uid },
        })
        .catch(() => undefined);
    }
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.node.events.record({ ...this.pod, kind: 'Pod', apiVersion: 'v1' }, type, reason, message);
  }

  /** Coalesces status writes: at most one in flight, the latest state always written last. */
  private writeStatus(): Promise<void> {
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const status = computePodStatus(this.pod, this.rt);
      const { namespace, name } = this.pod.metadata;
      try {
        const r = await this.node.client.request(
          'PATCH',
          apiPath('v1', 'pods', namespace, name, 'status'),
          { status },
          'application/merge-patch+json',
        );
        if (r.status === 200) this.pod = { ...this.pod, status: (r.body as K8sObject).status };
      } catch {
        this.dirty = true;
      }
    });
    return this.writing;
  }

  private async run(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    await this.writeStatus();
    const spec = (this.pod.spec ?? {}) as Obj;
    const deadline = Number(spec.activeDeadlineSeconds ?? 0);
    if (deadline > 0) {
      this.deadlineTimer = setTimeout(() => void this.deadlineExceeded(), deadline * 1000);
      this.deadlineTimer.unref();
    }
    const mounts = await this.stage();
    if (!mounts || this.terminating) return;
    this.rt.sandboxReady = true;
    const images = [
      ...((spec.initContainers ?? []) as Obj[]).map((c, i) => ({ image: String(c.image), status: this.rt.init[i]! })),
      ...((spec.containers ?? []) as Obj[]).map((c, i) => ({ image: String(c.image), status: this.rt.containers[i]! })),
    ];
    const event = (type: 'Normal' | 'Warning', reason: string, message: string) => this.event(type, reason, message);
    if (!(await pullImages(images, this.node.images, event, () => this.writeStatus()))) return;
    const restartPolicy = String(spec.restartPolicy ?? 'Always');
    const inits = (spec.initContainers ?? []) as Obj[];
    for (let i = 0; i < inits.length; i++) {
      for (let attempt = 0; ; attempt++) {
        if (this.terminating) return;
        const exit = await this.runContainer(inits[i]!, this.rt.init[i]!, mounts, true);
        if (exit.exitCode === 0) break;
        if (restartPolicy === 'Never') {
          await this.writeStatus();
          this.finished = true;
          return;
        }
        await this.backoff(this.rt.init[i]!, attempt);
      }
    }
    await Promise.all(
      ((spec.containers ?? []) as Obj[]).map(async (c, i) => {
        for (let attempt = 0; ; attempt++) {
          if (this.terminating) return;
          const exit = await this.runContainer(c, this.rt.containers[i]!, mounts);
          const again = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && exit.exitCode !== 0);
          if (!again || this.terminating) return;
          await this.backoff(this.rt.containers[i]!, attempt);
        }
      }),
    );
    this.finished = true;
    await this.writeStatus();
  }

  private async deadlineExceeded(): Promise<void> {
    if (this.finished || this.terminating) return;
    this.rt.deadlineExceeded = true;
    void this.event('Normal', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
    await this.terminate(Number(((this.pod.spec ?? {}) as Obj).terminationGracePeriodSeconds ?? 30), false);
    this.terminating = true;
  }

  private async stage(): Promise<Map<string, string> | undefined> {
    for (;;) {
      if (this.terminating) return undefined;
      try {
        return await stageVolumes({
          pod: this.pod,
          podDir: this.dir,
          hostIP: this.node.hostIP,
          caPem: this.node.caPem,
          get: (r, n) => this.node.getObject(r, this.namespace, n),
          requestToken: (aud, exp) => this.node.requestToken(this.pod, aud, exp),
        });
      } catch (err) {
        const msg = err instanceof VolumeError ? err.message : `MountVolume.SetUp failed: ${(err as Error).message}`;
        await this.event('Warning', 'FailedMount', msg);
        await sleep(2_000);
      }
    }
  }

  private async backoff(s: ContainerStatus, attempt: number): Promise<void> {
    const ms = Math.min(this.node.restartBackoffMs * 2 ** attempt, this.node.restartBackoffMaxMs);
    s.state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${Math.round(ms / 1000)}s restarting failed container=${s.name} pod=${this.name}_${this.namespace}(${String(this.pod.metadata.uid)})`,
      },
    };
    await this.writeStatus();
    void this.event('Warning', 'BackOff', 'Back-off restarting failed container');
    const until = Date.now() + ms;
    while (Date.now() < until && !this.terminating) await sleep(Math.min(200, until - Date.now()));
  }

  private async runContainer(
    c: Obj,
    s: ContainerStatus,
    volumes: Map<string, string>,
    init = false,
  ): Promise<ContainerExit> {
    const entry = lookupImage(this.node.images, String(c.image))!;
    let env: Map<string, string>;
    try {
      env = await buildEnv(
        this.pod,
        c,
        { ...this.node.baseEnv(this.pod), ...entry.env },
        (r, n) => this.node.getObject(r, this.namespace, n),
        this.node.hostIP,
      );
    } catch (err) {
      s.state = { waiting: { reason: 'CreateContainerConfigError', message: (err as Error).message } };
      await this.writeStatus();
      if (!(err instanceof EnvError)) throw err;
      await sleep(2_000);
      return { exitCode: 1, oomKilled: false };
    }
    const name = String(c.name);
    const { mounts, programsBound } = containerMounts({
      container: c,
      volumes,
      entry,
      runtime: this.node.containerRuntime,
      hostNetwork: ((this.pod.spec ?? {}) as Obj).hostNetwork === true,
      hostsFile: this.node.hostsFile(this.namespace),
    });
    if (programsBound && env.get('PATH') === entry.programsDir) env.set('PATH', IMAGE_PROGRAMS_DIR);
    const argv = containerArgv(entry, c.command as string[] | undefined, c.args as string[] | undefined, env);
    const limits = (((c.resources ?? {}) as Obj).limits as Obj | undefined) ?? {};
    const cgroup = this.node.cgroups.create(
      `${String(this.pod.metadata.uid)}-${name}-${s.restartCount}-${Date.now() % 100000}`,
      {
        ...(limits.memory ? { memoryBytes: bytes(limits.memory) } : {}),
        ...(limits.cpu ? { cpuMilli: cpuMilli(limits.cpu) } : {}),
      },
    );
    const log = this.node.logs.start(this.namespace, this.name, name);
    for (const taken of portsInUse((c.ports ?? []) as Obj[]))
      void this.event('Warning', 'PortInUse', portInUseMessage(name, taken));
    const containerID = `containerd://${hex(`${String(this.pod.metadata.uid)}/${name}/${s.restartCount}/${Date.now()}`)}`;
    const containerEnv = Object.fromEntries(env);
    const workingDir = containerWorkingDir(entry, c.workingDir as string | undefined);
    const proc = launchContainer({
      argv,
      env: containerEnv,
      mounts,
      stdin: c.stdin === true,
      tty: c.tty === true,
      runtime: this.node.containerRuntime,
      onOutput: (st, chunk) => log.append(st, chunk),
      workingDir,
      ...(cgroup ? { cgroup } : {}),
    });
    // Out of `running` as soon as the process ends, not once this method is past its status write.
    const ended = proc.exited.then((exit) => {
      if (this.running.get(name)?.proc === proc) this.running.delete(name);
      return exit;
    });
    const inRun: ContainerInRun = {
      proc,
      ...(cgroup ? { cgroup } : {}),
      ended,
      env: containerEnv,
      workingDir,
      mounts,
      ...(entry.programs ? { programs: entry.programs } : {}),
      stdinOnce: c.stdinOnce === true,
      started: false,
    };
    this.running.set(name, inRun);
    // Running once the runtime has the command in its isolation, as a runtime reports a start.
    await proc.started;
    inRun.started = true;
    const startedAt = iso();
    s.containerID = containerID;
    s.imageID = `${qualifiedImage(String(c.image)).replace(/:[^:/]+$/, '')}@sha256:${hex(qualifiedImage(String(c.image)))}`;
    s.state = { running: { startedAt } };
    // Init containers have no probes; a container's own say when it is started and ready.
    const probes = init
      ? undefined
      : new ContainerProbes(c, (state) => {
          if (this.running.get(name)?.proc !== proc) return;
          s.ready = state.ready;
          s.started = state.started;
          void this.writeStatus();
        });
    s.ready = probes?.state.ready ?? true;
    s.started = probes?.state.started ?? true;
    void this.event('Normal', 'Pulled', `Container image "${String(c.image)}" already present on machine`);
    void this.event('Normal', 'Created', `Created container: ${name}`);
    void this.event('Normal', 'Started', `Started container ${name}`);
    await this.writeStatus();
    const exit = await ended;
    probes?.stop();
    log.close();
    cgroup?.remove();
    if (exit.startError) void this.event('Warning', 'Failed', `Error: ${exit.startError}`);
    // No termination message file here: FallbackToLogsOnError's log tail is the only message a container leaves.
    const fallback =
      exit.exitCode !== 0 && c.terminationMessagePolicy === 'FallbackToLogsOnError'
        ? log.tail(TERMINATION_LOG_LINES, TERMINATION_LOG_BYTES)
        : '';
    const terminated = {
      exitCode: exit.exitCode,
      reason: exit.startError ? 'StartError' : terminatedReason(exit.exitCode, exit.oomKilled),
      ...(exit.startError ? { message: exit.startError } : fallback ? { message: fallback } : {}),
      ...(exit.signal !== undefined ? { signal: exit.signal } : {}),
      startedAt,
      finishedAt: iso(),
      containerID,
    };
    s.ready = false;
    s.started = false;
    const restarting = this.willRestart(exit.exitCode, init) && !this.terminating && !this.rt.deadlineExceeded;
    s.state = { terminated };
    if (restarting) {
      s.lastState = { terminated };
      s.restartCount++;
    }
    await this.writeStatus();
    return exit;
  }

  private willRestart(exitCode: number, init: boolean): boolean {
    const p = String(((this.pod.spec ?? {}) as Obj).restartPolicy ?? 'Always');
    // Init containers are retried only while they fail (unless the policy is Never).
    if (init) return p !== 'Never' && exitCode !== 0;
    return p === 'Always' || (p === 'OnFailure' && exitCode !== 0);
  }
}

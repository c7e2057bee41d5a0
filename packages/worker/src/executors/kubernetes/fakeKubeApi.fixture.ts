import { randomUUID } from 'node:crypto';
import type { CoreV1Event, V1ContainerState, V1Node, V1Pod, V1PodStatus, V1Secret } from '@kubernetes/client-node';
import { LongshoreError } from '@longshore/protocol';
import type {
  AccessAnswer,
  AccessQuestion,
  ContainerUsage,
  CallOptions,
  KubeApi,
  PodLogOptions,
  PodOwner,
  WatchEventType,
  WatchHandle,
  WatchHandler,
} from './kubeApi.js';

interface LogState {
  lines: { ts: string; text: string }[];
  ended: boolean;
  wake: (() => void)[];
}

/**
 * A KubeApi in memory for the executor's logic: pods go through the phases a test sets, logs
 * are served with timestamps and sinceTime (whole seconds, as the API server does), streams can
 * be broken after a number of bytes (mid-line), and events are delivered to the event watch.
 */
export class FakeKubeApi implements KubeApi {
  readonly namespace = 'longshore';
  readonly pods = new Map<string, V1Pod>();
  readonly secrets = new Map<string, V1Secret>();
  readonly events: CoreV1Event[] = [];
  readonly calls: string[] = [];
  /** Log chunks are cut to this many bytes, so that lines and characters arrive split. */
  chunkBytes = 7;
  private readonly logs = new Map<string, LogState>();
  private readonly breaks = new Map<string, number[]>();
  private readonly podWatchers = new Set<{ selector: string; handler: WatchHandler<V1Pod> }>();
  private readonly eventWatchers = new Set<WatchHandler<CoreV1Event>>();
  private clock = Date.parse('2030-01-01T00:00:00Z');
  private version = 1;
  /** Set to make the next createPod fail with this error. */
  failNextCreatePod: LongshoreError | undefined;
  /** Rights the worker lacks, as `verb resource[/subresource]` (`create pods`, `list nodes`). */
  readonly denied = new Set<string>();
  /** What listNodes answers. */
  nodes: V1Node[] = [];
  /** Set to make serverVersion fail with this error (an unreachable API server). */
  versionFailure: LongshoreError | undefined;

  async createSecret(secret: V1Secret, options?: CallOptions): Promise<V1Secret> {
    this.call('createSecret', secret.metadata?.name, options);
    const name = secret.metadata!.name!;
    if (this.secrets.has(name)) throw new LongshoreError('CONFLICT', `secrets "${name}" already exists`);
    const stored = structuredClone({
      ...secret,
      metadata: { ...secret.metadata, uid: randomUUID(), resourceVersion: String(this.version++) },
    });
    this.secrets.set(name, stored);
    return structuredClone(stored);
  }

  async readSecret(name: string, options?: CallOptions): Promise<V1Secret | undefined> {
    this.call('readSecret', name, options);
    const secret = this.secrets.get(name);
    return secret && structuredClone(secret);
  }

  async replaceSecret(secret: V1Secret, options?: CallOptions): Promise<V1Secret> {
    const name = secret.metadata!.name!;
    this.call('replaceSecret', name, options);
    const stored = this.secrets.get(name);
    if (!stored) throw new LongshoreError('NOT_FOUND', `secrets "${name}" not found`);
    if (secret.metadata?.resourceVersion !== stored.metadata?.resourceVersion)
      throw new LongshoreError(
        'CONFLICT',
        `the object has been modified; please apply your changes to the latest version`,
      );
    const updated = structuredClone({
      ...secret,
      metadata: { ...secret.metadata, uid: stored.metadata!.uid, resourceVersion: String(this.version++) },
    });
    this.secrets.set(name, updated);
    return structuredClone(updated);
  }

  /** What readPodMetrics answers, by pod. */
  readonly metrics = new Map<string, ContainerUsage[]>();

  async readPodMetrics(name: string, options?: CallOptions): Promise<ContainerUsage[] | undefined> {
    this.call('readPodMetrics', name, options);
    return this.metrics.get(name);
  }

  async serverVersion(options?: CallOptions): Promise<string> {
    this.call('serverVersion', undefined, options);
    if (this.versionFailure) throw this.versionFailure;
    return 'v1.34.0-fake';
  }

  async selfSubjectAccessReview(access: AccessQuestion, options?: CallOptions): Promise<AccessAnswer> {
    const right = `${access.verb} ${access.resource}${access.subresource ? `/${access.subresource}` : ''}`;
    this.call('selfSubjectAccessReview', `${right} ${access.namespace ?? '(cluster)'}`, options);
    return this.denied.has(right) ? { allowed: false } : { allowed: true, reason: 'fake RBAC' };
  }

  async listNodes(options?: CallOptions): Promise<V1Node[]> {
    this.call('listNodes', undefined, options);
    if (this.denied.has('list nodes')) throw new LongshoreError('FORBIDDEN', 'nodes is forbidden (fake)');
    return structuredClone(this.nodes);
  }

  async deleteSecret(name: string, options?: CallOptions): Promise<void> {
    this.call('deleteSecret', name, options);
    this.secrets.delete(name);
  }

  async setSecretOwner(name: string, owner: PodOwner, options?: CallOptions): Promise<void> {
    this.call('setSecretOwner', name, options);
    const secret = this.secrets.get(name);
    if (!secret) throw new LongshoreError('NOT_FOUND', `secrets "${name}" not found`);
    secret.metadata!.ownerReferences = [
      { apiVersion: 'v1', kind: 'Pod', name: owner.name, uid: owner.uid, blockOwnerDeletion: false },
    ];
  }

  async createPod(pod: V1Pod, options?: CallOptions): Promise<V1Pod> {
    this.call('createPod', pod.metadata?.name, options);
    if (this.denied.has('create pods')) throw new LongshoreError('FORBIDDEN', 'pods is forbidden (fake)');
    if (this.failNextCreatePod) {
      const error = this.failNextCreatePod;
      this.failNextCreatePod = undefined;
      throw error;
    }
    const name = pod.metadata!.name!;
    if (this.pods.has(name)) throw new LongshoreError('CONFLICT', `pods "${name}" already exists`);
    const stored: V1Pod = structuredClone({
      ...pod,
      metadata: {
        ...pod.metadata,
        uid: randomUUID(),
        creationTimestamp: new Date(this.clock),
        resourceVersion: String(this.version++),
      },
      status: { phase: 'Pending' },
    });
    this.pods.set(name, stored);
    this.logs.set(name, { lines: [], ended: false, wake: [] });
    this.notifyPod('ADDED', stored);
    return structuredClone(stored);
  }

  async readPod(name: string, options?: CallOptions): Promise<V1Pod | undefined> {
    this.call('readPod', name, options);
    const pod = this.pods.get(name);
    return pod && structuredClone(pod);
  }

  async deletePod(name: string, gracePeriodSeconds: number, options?: CallOptions): Promise<void> {
    this.call(`deletePod(${gracePeriodSeconds})`, name, options);
    this.removePod(name);
  }

  async listPods(labelSelector: string, options?: CallOptions): Promise<V1Pod[]> {
    this.call('listPods', labelSelector, options);
    return [...this.pods.values()]
      .filter((p) => matches(labelSelector, p.metadata?.labels))
      .map((p) => structuredClone(p));
  }

  async listSecrets(labelSelector: string, options?: CallOptions): Promise<V1Secret[]> {
    this.call('listSecrets', labelSelector, options);
    return [...this.secrets.values()]
      .filter((s) => matches(labelSelector, s.metadata?.labels))
      .map((s) => structuredClone(s));
  }

  watchPods(labelSelector: string, handler: WatchHandler<V1Pod>): WatchHandle {
    this.calls.push(`watchPods ${labelSelector}`);
    const watcher = { selector: labelSelector, handler };
    this.podWatchers.add(watcher);
    for (const pod of this.pods.values())
      if (matches(labelSelector, pod.metadata?.labels)) handler.event('ADDED', structuredClone(pod));
    return { ready: Promise.resolve(), stop: async () => void this.podWatchers.delete(watcher) };
  }

  async listPodEvents(podName: string, options?: CallOptions): Promise<CoreV1Event[]> {
    this.call('listPodEvents', podName, options);
    return this.events.filter((e) => e.involvedObject.name === podName).map((e) => structuredClone(e));
  }

  watchPodEvents(handler: WatchHandler<CoreV1Event>): WatchHandle {
    this.calls.push('watchPodEvents');
    this.eventWatchers.add(handler);
    return { ready: Promise.resolve(), stop: async () => void this.eventWatchers.delete(handler) };
  }

  async *streamPodLog(
    name: string,
    container: string,
    logOptions: PodLogOptions,
    options?: CallOptions,
  ): AsyncIterable<Uint8Array> {
    this.call(
      `streamPodLog ${container}${logOptions.sinceTime ? ` since ${logOptions.sinceTime}` : ''}`,
      name,
      options,
    );
    const log = this.logs.get(name);
    if (!log || !this.pods.has(name)) throw new LongshoreError('NOT_FOUND', `pods "${name}" not found`);
    // The API server parses sinceTime into whole seconds.
    const since = logOptions.sinceTime ? Math.floor(Date.parse(logOptions.sinceTime) / 1000) * 1000 : -Infinity;
    let index = log.lines.findIndex((l) => Date.parse(l.ts) >= since);
    if (index === -1) index = log.lines.length;
    let budget = this.breaks.get(name)?.shift();
    for (;;) {
      const pending = log.lines.slice(index);
      index = log.lines.length;
      const text = pending.map((l) => (logOptions.timestamps ? `${l.ts} ${l.text}\n` : `${l.text}\n`)).join('');
      const bytes = Buffer.from(text, 'utf8');
      for (let at = 0; at < bytes.length; at += this.chunkBytes) {
        const chunk = bytes.subarray(at, at + this.chunkBytes);
        if (budget !== undefined) {
          if (budget <= chunk.length) {
            if (budget > 0) yield chunk.subarray(0, budget);
            throw new Error('the log stream broke (fake)');
          }
          budget -= chunk.length;
        }
        if (options?.signal?.aborted) return;
        yield chunk;
      }
      if (!logOptions.follow || log.ended || !this.pods.has(name)) return;
      await new Promise<void>((resolve) => {
        log.wake.push(resolve);
        options?.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      if (options?.signal?.aborted) return;
    }
  }

  // --- what tests drive ---

  /** Moves the fake clock (used for log timestamps and events). */
  advance(ms: number): void {
    this.clock += ms;
  }

  now(): number {
    return this.clock;
  }

  /** Appends lines to a pod's log at the current fake time, `stepMs` apart. */
  log(name: string, lines: string[], stepMs = 0): void {
    const log = this.logs.get(name)!;
    for (const text of lines) {
      log.lines.push({ ts: new Date(this.clock).toISOString().replace('Z', '000000Z'), text });
      this.clock += stepMs;
    }
    this.wakeLog(name);
  }

  endLog(name: string): void {
    const log = this.logs.get(name);
    if (!log) return;
    log.ended = true;
    this.wakeLog(name);
  }

  /** The next stream of this pod's log breaks after this many bytes. */
  breakNextStream(name: string, afterBytes: number): void {
    const list = this.breaks.get(name) ?? [];
    list.push(afterBytes);
    this.breaks.set(name, list);
  }

  /** Loses log lines (as kubelet log rotation does): they are never served. */
  dropLogLines(name: string, predicate: (text: string) => boolean): void {
    const log = this.logs.get(name)!;
    log.lines = log.lines.filter((l) => !predicate(l.text));
  }

  setStatus(name: string, status: V1PodStatus): void {
    const pod = this.pods.get(name);
    if (!pod) return;
    pod.status = structuredClone(status);
    pod.metadata!.resourceVersion = String(this.version++);
    this.notifyPod('MODIFIED', pod);
  }

  /** The script container's state, with the phase that goes with it. */
  setContainerState(name: string, state: V1ContainerState): void {
    const phase = state.running
      ? 'Running'
      : state.terminated
        ? state.terminated.exitCode === 0
          ? 'Succeeded'
          : 'Failed'
        : 'Pending';
    this.setStatus(name, {
      phase,
      containerStatuses: [{ name: 'script', image: 'x', imageID: '', ready: !!state.running, restartCount: 0, state }],
    });
    if (state.terminated) this.endLog(name);
  }

  /** A pod that vanishes (deleted by someone else, or its node is gone); the Secrets it owns go with it, as Kubernetes' garbage collector does. */
  removePod(name: string): void {
    const pod = this.pods.get(name);
    if (!pod) return;
    this.pods.delete(name);
    for (const [secretName, secret] of this.secrets) {
      if (secret.metadata?.ownerReferences?.some((o) => o.uid === pod.metadata?.uid)) this.secrets.delete(secretName);
    }
    this.endLog(name);
    this.notifyPod('DELETED', pod);
  }

  event(
    podName: string,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component = 'default-scheduler',
  ): CoreV1Event {
    const event: CoreV1Event = {
      metadata: { name: `${podName}.${this.version}`, namespace: this.namespace, uid: randomUUID() },
      involvedObject: {
        kind: 'Pod',
        name: podName,
        namespace: this.namespace,
        uid: this.pods.get(podName)?.metadata?.uid,
      },
      type,
      reason,
      message,
      source: { component },
      count: 1,
      firstTimestamp: new Date(this.clock),
      lastTimestamp: new Date(this.clock),
    };
    this.version++;
    this.events.push(event);
    for (const handler of this.eventWatchers) handler.event('ADDED', structuredClone(event));
    return event;
  }

  private wakeLog(name: string): void {
    const log = this.logs.get(name);
    if (!log) return;
    const wake = log.wake.splice(0);
    for (const w of wake) w();
  }

  private notifyPod(type: WatchEventType, pod: V1Pod): void {
    for (const w of this.podWatchers)
      if (matches(w.selector, pod.metadata?.labels)) w.handler.event(type, structuredClone(pod));
  }

  private call(what: string, name: string | undefined, options: CallOptions | undefined): void {
    if (options?.signal?.aborted) throw new LongshoreError('TIMEOUT', `${what} aborted`);
    this.calls.push(`${what} ${name ?? ''}`.trim());
  }
}

/** Equality selectors only (`a=b,c=d`): all the executor uses. */
function matches(selector: string, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key = '', value = ''] = term.split('=');
    return labels?.[key] === value;
  });
}

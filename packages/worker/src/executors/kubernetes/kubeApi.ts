import type { CoreV1Event, V1Node, V1Pod, V1Secret } from '@kubernetes/client-node';
import { LongshoreError, timeLimit } from '@longshore/protocol';

/**
 * The narrow Kubernetes API the executor depends on: what it needs and nothing else, so its
 * logic is tested with a fake (fakeKubeApi.fixture.ts) and its wiring with the sandbox
 * (clientNodeKubeApi.ts). Everything is in the worker's own namespace. Each call takes an
 * AbortSignal and has a time limit; failures are LongshoreErrors: NOT_FOUND, CONFLICT,
 * FORBIDDEN (the Role lacks a verb), VALIDATION_FAILED (the API server refused the object),
 * TIMEOUT and SERVER_UNREACHABLE (the API server is unreachable or overloaded: retry).
 */
export interface KubeApi {
  readonly namespace: string;
  createSecret(secret: V1Secret, options?: CallOptions): Promise<V1Secret>;
  /** undefined when there is no such Secret. */
  readSecret(name: string, options?: CallOptions): Promise<V1Secret | undefined>;
  /** A full update (PUT): the Secret's resourceVersion must be the stored one, else CONFLICT. */
  replaceSecret(secret: V1Secret, options?: CallOptions): Promise<V1Secret>;
  /** Resolves also when the Secret is already gone. */
  deleteSecret(name: string, options?: CallOptions): Promise<void>;
  /** Makes the pod the Secret's owner, so that deleting the pod (by us, a user or a namespace cleanup) takes the Secret with it. */
  setSecretOwner(name: string, owner: PodOwner, options?: CallOptions): Promise<void>;
  createPod(pod: V1Pod, options?: CallOptions): Promise<V1Pod>;
  /** undefined when there is no such pod. */
  readPod(name: string, options?: CallOptions): Promise<V1Pod | undefined>;
  /** Resolves also when the pod is already gone. */
  deletePod(name: string, gracePeriodSeconds: number, options?: CallOptions): Promise<void>;
  /** Every page of the list. */
  listPods(labelSelector: string, options?: CallOptions): Promise<V1Pod[]>;
  listSecrets(labelSelector: string, options?: CallOptions): Promise<V1Secret[]>;
  /** One list+watch (an informer) that survives broken watches and 410 Gone by relisting. */
  watchPods(labelSelector: string, handler: WatchHandler<V1Pod>): WatchHandle;
  /** Events about one pod (involvedObject), oldest first. */
  listPodEvents(podName: string, options?: CallOptions): Promise<CoreV1Event[]>;
  /** Events about pods in the namespace (involvedObject.kind=Pod): one watch for all pending pods. */
  watchPodEvents(handler: WatchHandler<CoreV1Event>): WatchHandle;
  /**
   * The container's log as chunks of bytes. With `follow` it ends when the container ends or
   * the stream breaks; a break is an error (the reader resumes with sinceTime). The time
   * limit applies to the response's start only: a quiet script may print nothing for hours.
   */
  streamPodLog(
    name: string,
    container: string,
    logOptions: PodLogOptions,
    options?: CallOptions,
  ): AsyncIterable<Uint8Array>;
  /** The API server's version (`v1.34.2`): the server shows it beside the worker. */
  serverVersion(options?: CallOptions): Promise<string>;
  /**
   * Whether the worker's own identity may do this (a SelfSubjectAccessReview): the health check
   * asks it for every right it needs. Any authenticated caller may ask (system:basic-user).
   */
  selfSubjectAccessReview(access: AccessQuestion, options?: CallOptions): Promise<AccessAnswer>;
  /** Every node (cluster-scoped: a namespaced Role does not allow it; ask selfSubjectAccessReview first). */
  listNodes(options?: CallOptions): Promise<V1Node[]>;
  /** The pod's containers' current usage (metrics.k8s.io); undefined when the cluster serves no metrics for it (yet). */
  readPodMetrics(name: string, options?: CallOptions): Promise<ContainerUsage[] | undefined>;
}

export interface ContainerUsage {
  name: string;
  cpuMillis: number;
  memoryBytes: number;
}

export interface AccessQuestion {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Absent for a cluster-scoped resource. */
  namespace?: string;
}

export interface AccessAnswer {
  allowed: boolean;
  /** The authorizer's words, when it gave any. */
  reason?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the implementation's default limit. */
  timeoutMs?: number;
}

export interface PodOwner {
  name: string;
  uid: string;
}

export interface PodLogOptions {
  follow: boolean;
  timestamps: boolean;
  /** RFC 3339; the API server honours whole seconds only, so a resumed read repeats some lines. */
  sinceTime?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchHandler<T> {
  event(type: WatchEventType, object: T): void;
  /** The watch broke and is being re-established (it keeps trying until stopped). */
  error?(error: unknown): void;
}

export interface WatchHandle {
  /** Resolves after the first list was delivered: from then on the handler has seen every object. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs a call with a time limit and the caller's signal; the call gets one signal that ends on
 * either, so the HTTP request itself is aborted, not only abandoned.
 */
export async function withTimeout<T>(
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const limit = timeLimit(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, limit.signal]) : limit.signal;
  try {
    return await call(combined);
  } catch (error) {
    if (limit.signal.aborted && !signal?.aborted)
      throw new LongshoreError('TIMEOUT', `${what} took longer than ${timeoutMs} ms`, { timeoutMs });
    throw error;
  } finally {
    limit.clear();
  }
}

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';
import { ApiWatch, type WatchTiming } from './apiWatch.js';
import { LongshoreError, cpuMillis, isLongshoreError, memoryBytes } from '@longshore/protocol';
import {
  withTimeout,
  type AccessAnswer,
  type AccessQuestion,
  type ContainerUsage,
  type CallOptions,
  type KubeApi,
  type PodLogOptions,
  type PodOwner,
  type WatchHandle,
  type WatchHandler,
} from './kubeApi.js';

/**
 * The one place that makes a KubeConfig (trigger.dev makes one per module; we make one, once,
 * and pass it in). In the cluster: the pod's ServiceAccount token and CA, which the kubelet
 * rotates; the client rereads the token file, so nothing here caches it.
 */
export function kubeConfigFor(options: { kubeconfigPath?: string; inCluster: boolean }): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (options.inCluster) kc.loadFromCluster();
  else if (options.kubeconfigPath) kc.loadFromFile(options.kubeconfigPath);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `No Kubernetes cluster in ${options.inCluster ? 'the in-cluster configuration' : (options.kubeconfigPath ?? 'the default kubeconfig')}`,
    );
  }
  return kc;
}

type RequestOptionsArg = Parameters<k8s.CoreV1Api['readNamespacedPod']>[1];

/**
 * client-node has no signal parameter; a middleware puts ours on the request, so an abort really
 * ends it. It also gives every call one keep-alive dispatcher: client-node makes a new one per
 * call, which costs a TLS handshake each (a third of a busy worker's CPU).
 */
function withSignal(signal: AbortSignal, dispatcher: Promise<Dispatcher | undefined>): RequestOptionsArg {
  return {
    middleware: [
      {
        pre: (context) => {
          context.setSignal(signal);
          return new k8s.Observable(
            dispatcher.then((d) => {
              if (d) context.setDispatcher(d);
              return context;
            }),
          );
        },
        post: (context) => new k8s.Observable(Promise.resolve(context)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/** The client's errors as LongshoreErrors with stable codes; the API server's message is kept. */
export function toLongshoreError(what: string, error: unknown): unknown {
  if (isLongshoreError(error)) return error;
  const status = (error as { code?: unknown }).code;
  if (typeof status === 'number') {
    const body = (error as { body?: unknown }).body;
    const message = `${what}: ${typeof body === 'string' ? (safeMessage(body) ?? body) : String((error as Error).message)}`;
    if (status === 404) return new LongshoreError('NOT_FOUND', message, { status });
    if (status === 409) return new LongshoreError('CONFLICT', message, { status });
    if (status === 401) return new LongshoreError('UNAUTHENTICATED', message, { status });
    if (status === 403)
      return new LongshoreError('FORBIDDEN', `${message} (the worker's Role must allow this; see the chart's rbac)`, {
        status,
      });
    if (status === 400 || status === 422) return new LongshoreError('VALIDATION_FAILED', message, { status });
    // 429 and 5xx: an overloaded or restarting API server; a retry may work.
    return new LongshoreError('SERVER_UNREACHABLE', message, { status });
  }
  return new LongshoreError(
    'SERVER_UNREACHABLE',
    `${what}: the Kubernetes API cannot be reached: ${(error as Error).message}`,
  );
}

function safeMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

/** KubeApi with @kubernetes/client-node, in one namespace. */
export class ClientNodeKubeApi implements KubeApi {
  private readonly core: k8s.CoreV1Api;
  private sharedDispatcher: Promise<Dispatcher | undefined> | undefined;

  constructor(
    private readonly kc: k8s.KubeConfig,
    readonly namespace: string,
    private readonly options: { timeoutMs: number; watchRetryMs?: number; watchTiming?: WatchTiming } = {
      timeoutMs: 30_000,
    },
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  private call<T>(
    what: string,
    options: CallOptions | undefined,
    fn: (o: RequestOptionsArg) => Promise<T>,
  ): Promise<T> {
    return withTimeout(what, options?.timeoutMs ?? this.options.timeoutMs, options?.signal, async (signal) => {
      try {
        return await fn(withSignal(signal, this.dispatcher()));
      } catch (error) {
        if (signal.aborted) throw error;
        throw toLongshoreError(what, error);
      }
    });
  }

  /**
   * The connections every call shares, with the kubeconfig's TLS settings (CA, client
   * certificate, server name); none through a proxy, where client-node's own dispatcher knows
   * the way. TCP keep-alive probes every 30 s, as client-go does, so a cloud load balancer's
   * idle timeout does not cut a pooled connection unseen.
   */
  private dispatcher(): Promise<Dispatcher | undefined> {
    this.sharedDispatcher ??= (async () => {
      const cluster = this.kc.getCurrentCluster();
      if (!cluster || cluster.proxyUrl) return undefined;
      const tls: RequestOptions = {};
      await this.kc.applyToHTTPSOptions(tls);
      const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = tls;
      const connect = { ca, cert, key, pfx, passphrase, servername, keepAlive: true, keepAliveInitialDelay: 30_000 };
      // No undici body or header timeouts: every call has its own time limit (withTimeout) and a watch
      // its silence limit, and undici's timeouts keep a timer ticking twice a second while a watch is open.
      return new Agent({
        connections: 16,
        bodyTimeout: 0,
        headersTimeout: 0,
        connect: rejectUnauthorized === undefined ? connect : { ...connect, rejectUnauthorized },
      });
    })();
    return this.sharedDispatcher;
  }

  createSecret(secret: k8s.V1Secret, options?: CallOptions): Promise<k8s.V1Secret> {
    return this.call(`creating Secret ${secret.metadata?.name}`, options, (o) =>
      this.core.createNamespacedSecret({ namespace: this.namespace, body: secret }, o),
    );
  }

  readSecret(name: string, options?: CallOptions): Promise<k8s.V1Secret | undefined> {
    return this.ignoreNotFound(
      this.call(`reading Secret ${name}`, options, (o) =>
        this.core.readNamespacedSecret({ namespace: this.namespace, name }, o),
      ),
    );
  }

  replaceSecret(secret: k8s.V1Secret, options?: CallOptions): Promise<k8s.V1Secret> {
    const name = secret.metadata!.name!;
    return this.call(`updating Secret ${name}`, options, (o) =>
      this.core.replaceNamespacedSecret({ namespace: this.namespace, name, body: secret }, o),
    );
  }

  async readPodMetrics(name: string, options?: CallOptions): Promise<ContainerUsage[] | undefined> {
    try {
      const metrics = (await this.call(`reading the usage of pod ${name}`, options, (o) =>
        this.kc
          .makeApiClient(k8s.CustomObjectsApi)
          .getNamespacedCustomObject(
            { group: 'metrics.k8s.io', version: 'v1beta1', namespace: this.namespace, plural: 'pods', name },
            o,
          ),
      )) as { containers?: { name: string; usage?: { cpu?: string; memory?: string } }[] };
      return (metrics.containers ?? []).map((c) => ({
        name: c.name,
        cpuMillis: c.usage?.cpu ? cpuMillis(c.usage.cpu) : 0,
        memoryBytes: c.usage?.memory ? memoryBytes(c.usage.memory) : 0,
      }));
    } catch (error) {
      // No metrics-server, or none for this pod yet: usage is unknown, which is no failure.
      if (isLongshoreError(error) && (error.code === 'NOT_FOUND' || error.code === 'SERVER_UNREACHABLE'))
        return undefined;
      throw error;
    }
  }

  async serverVersion(options?: CallOptions): Promise<string> {
    const info = await this.call('reading the API server version', options, (o) =>
      this.kc.makeApiClient(k8s.VersionApi).getCode(o),
    );
    return info.gitVersion;
  }

  async selfSubjectAccessReview(access: AccessQuestion, options?: CallOptions): Promise<AccessAnswer> {
    const { verb, group, resource, subresource, namespace } = access;
    const review = await this.call(`asking whether the worker may ${verb} ${resource}`, options, (o) =>
      this.kc
        .makeApiClient(k8s.AuthorizationV1Api)
        .createSelfSubjectAccessReview(
          { body: { spec: { resourceAttributes: { verb, group, resource, subresource, namespace } } } },
          o,
        ),
    );
    const reason = review.status?.reason;
    return { allowed: review.status?.allowed === true, ...(reason ? { reason } : {}) };
  }

  async listNodes(options?: CallOptions): Promise<k8s.V1Node[]> {
    return this.pages('listing nodes', options, (_continue, o) => this.core.listNode({ limit: 500, _continue }, o));
  }

  async deleteSecret(name: string, options?: CallOptions): Promise<void> {
    await this.ignoreNotFound(
      this.call(`deleting Secret ${name}`, options, (o) =>
        this.core.deleteNamespacedSecret({ namespace: this.namespace, name }, o),
      ),
    );
  }

  async setSecretOwner(name: string, owner: PodOwner, options?: CallOptions): Promise<void> {
    const body = {
      metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: owner.name, uid: owner.uid }] },
    };
    await this.call(`setting the owner of Secret ${name}`, options, (o) =>
      this.core.patchNamespacedSecret(
        { namespace: this.namespace, name, body },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch, o),
      ),
    );
  }

  createPod(pod: k8s.V1Pod, options?: CallOptions): Promise<k8s.V1Pod> {
    return this.call(`creating pod ${pod.metadata?.name}`, options, (o) =>
      this.core.createNamespacedPod({ namespace: this.namespace, body: pod }, o),
    );
  }

  async readPod(name: string, options?: CallOptions): Promise<k8s.V1Pod | undefined> {
    return this.ignoreNotFound(
      this.call(`reading pod ${name}`, options, (o) =>
        this.core.readNamespacedPod({ namespace: this.namespace, name }, o),
      ),
    );
  }

  async deletePod(name: string, gracePeriodSeconds: number, options?: CallOptions): Promise<void> {
    await this.ignoreNotFound(
      this.call(`deleting pod ${name}`, options, (o) =>
        this.core.deleteNamespacedPod({ namespace: this.namespace, name, gracePeriodSeconds }, o),
      ),
    );
  }

  async listPods(labelSelector: string, options?: CallOptions): Promise<k8s.V1Pod[]> {
    return this.pages(`listing pods ${labelSelector}`, options, (_continue, o) =>
      this.core.listNamespacedPod({ namespace: this.namespace, labelSelector, limit: 500, _continue }, o),
    );
  }

  async listSecrets(labelSelector: string, options?: CallOptions): Promise<k8s.V1Secret[]> {
    return this.pages(`listing Secrets ${labelSelector}`, options, (_continue, o) =>
      this.core.listNamespacedSecret({ namespace: this.namespace, labelSelector, limit: 500, _continue }, o),
    );
  }

  async listPodEvents(podName: string, options?: CallOptions): Promise<k8s.CoreV1Event[]> {
    const fieldSelector = `involvedObject.kind=Pod,involvedObject.name=${podName}`;
    const list = await this.call(`listing events of pod ${podName}`, options, (o) =>
      this.core.listNamespacedEvent({ namespace: this.namespace, fieldSelector }, o),
    );
    return list.items;
  }

  watchPods(labelSelector: string, handler: WatchHandler<k8s.V1Pod>): WatchHandle {
    const list = () =>
      this.call(`listing pods ${labelSelector}`, undefined, (o) =>
        this.core.listNamespacedPod({ namespace: this.namespace, labelSelector }, o),
      );
    return this.inform(`/api/v1/namespaces/${this.namespace}/pods`, list, handler, labelSelector, undefined);
  }

  watchPodEvents(handler: WatchHandler<k8s.CoreV1Event>): WatchHandle {
    const fieldSelector = 'involvedObject.kind=Pod';
    const list = () =>
      this.call('listing pod events', undefined, (o) =>
        this.core.listNamespacedEvent({ namespace: this.namespace, fieldSelector }, o),
      );
    return this.inform(`/api/v1/namespaces/${this.namespace}/events`, list, handler, undefined, fieldSelector);
  }

  async *streamPodLog(
    name: string,
    container: string,
    logOptions: PodLogOptions,
    options?: CallOptions,
  ): AsyncIterable<Uint8Array> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new LongshoreError('CONFIG_INVALID', 'The kubeconfig has no current cluster');
    const url = new URL(
      `${cluster.server.replace(/\/$/, '')}/api/v1/namespaces/${this.namespace}/pods/${encodeURIComponent(name)}/log`,
    );
    url.searchParams.set('container', container);
    if (logOptions.follow) url.searchParams.set('follow', 'true');
    if (logOptions.timestamps) url.searchParams.set('timestamps', 'true');
    if (logOptions.sinceTime) url.searchParams.set('sinceTime', logOptions.sinceTime);
    // Plain node:https, not client-node's Log: Log pipes the body with .pipe(), which does not pass a broken stream's error on.
    const requestOptions: RequestOptions = { method: 'GET', headers: {} };
    await this.kc.applyToHTTPSOptions(requestOptions);
    const what = `reading the log of pod ${name}`;
    const abort = new AbortController();
    const onAbort = (): void => abort.abort();
    options?.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // The time limit covers the answer's start only: once the body flows, a quiet script may print nothing for hours.
      const response = await withTimeout(
        what,
        options?.timeoutMs ?? this.options.timeoutMs,
        options?.signal,
        async (signal) => {
          signal.addEventListener('abort', onAbort, { once: true });
          try {
            return await new Promise<IncomingMessage>((resolve, reject) => {
              const req = (url.protocol === 'http:' ? httpRequest : httpsRequest)(
                url,
                { ...requestOptions, signal: abort.signal },
                resolve,
              );
              req.once('error', reject);
              req.end();
            });
          } finally {
            signal.removeEventListener('abort', onAbort);
          }
        },
      );
      if (response.statusCode !== 200) {
        const chunks: Buffer[] = [];
        for await (const chunk of response) chunks.push(chunk as Buffer);
        throw toLongshoreError(what, {
          code: response.statusCode ?? 500,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      }
      for await (const chunk of response) yield chunk as Uint8Array;
      // An HTTP/1.1 chunked body cut off mid-way ends without error on some paths; 'aborted' tells.
      if (!response.complete) throw new LongshoreError('SERVER_UNREACHABLE', `${what}: the stream broke`);
    } finally {
      options?.signal?.removeEventListener('abort', onAbort);
      abort.abort();
    }
  }

  private async ignoreNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
    try {
      return await promise;
    } catch (error) {
      if (isLongshoreError(error) && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  private async pages<T>(
    what: string,
    options: CallOptions | undefined,
    page: (
      cont: string | undefined,
      o: RequestOptionsArg,
    ) => Promise<{ items: T[]; metadata?: { _continue?: string } }>,
  ): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const list = await this.call(what, options, (o) => page(cont, o));
      items.push(...list.items);
      cont = list.metadata?._continue || undefined;
    } while (cont);
    return items;
  }

  /** client-node's ListWatch stops on an error; this restarts it (relisting, which also covers 410 Gone) until stopped. */
  private inform<T extends k8s.KubernetesObject>(
    path: string,
    list: () => Promise<k8s.KubernetesListObject<T>>,
    handler: WatchHandler<T>,
    labelSelector: string | undefined,
    fieldSelector: string | undefined,
  ): WatchHandle {
    const informer = new k8s.ListWatch<T>(
      path,
      new ApiWatch(this.kc, () => this.dispatcher(), this.options.watchTiming),
      list,
      false,
      labelSelector,
      fieldSelector,
    );
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    informer.on(k8s.ADD, (o) => handler.event('ADDED', o));
    informer.on(k8s.UPDATE, (o) => handler.event('MODIFIED', o));
    informer.on(k8s.DELETE, (o) => handler.event('DELETED', o));
    informer.on(k8s.ERROR, (error) => {
      if (stopped) return;
      handler.error?.(error);
      retry = setTimeout(
        () => void informer.start().catch((e: unknown) => handler.error?.(e)),
        this.options.watchRetryMs ?? 1000,
      );
    });
    const ready = informer.start();
    return {
      ready,
      stop: async () => {
        stopped = true;
        clearTimeout(retry);
        await informer.stop();
      },
    };
  }
}

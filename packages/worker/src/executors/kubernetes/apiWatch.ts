import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { fetch, type Dispatcher } from 'undici';

export interface WatchTiming {
  /** The API server ends each watch after a random time in [minSeconds, maxSeconds]. */
  minSeconds: number;
  maxSeconds: number;
  /** No byte for this long (bookmarks included) is a dead connection. */
  silenceMs: number;
}

const DEFAULT_TIMING: WatchTiming = { minSeconds: 300, maxSeconds: 600, silenceMs: 150_000 };

/**
 * client-node's ListWatch over a watch that suits a process which idles for hours.
 *
 * client-node 2's own Watch ends a watch after 30 s without a byte and dials a new connection
 * for the next one (a TLS handshake each): an idle worker renewed its two watches four times a
 * minute. This one does what client-go's reflector does instead: it asks the API server to end
 * the watch after 5 to 10 minutes (jittered, so many workers do not renew together) and for
 * bookmarks (kube-apiserver sends one about every minute). Silence well past the bookmark
 * interval means a dead connection, and ends the watch as a timeout, which ListWatch resumes
 * at once from its resourceVersion. Requests share the KubeApi's keep-alive dispatcher.
 */
export class ApiWatch extends k8s.Watch {
  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly dispatcher: () => Promise<Dispatcher | undefined>,
    private readonly timing: WatchTiming = DEFAULT_TIMING,
  ) {
    super(kc);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('No currently active cluster');
    const { minSeconds, maxSeconds, silenceMs } = this.timing;
    const url = new URL(cluster.server + path);
    for (const [key, value] of Object.entries(queryParams))
      if (value !== undefined) url.searchParams.set(key, String(value));
    url.searchParams.set('watch', 'true');
    url.searchParams.set('allowWatchBookmarks', 'true');
    url.searchParams.set(
      'timeoutSeconds',
      String(minSeconds + Math.floor(Math.random() * (maxSeconds - minSeconds + 1))),
    );
    const context = new k8s.RequestContext(url.toString(), k8s.HttpMethod.GET);
    await this.kc.applySecurityAuthentication(context);

    const controller = new AbortController();
    let silence: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (error: unknown): void => {
      if (finished) return;
      finished = true;
      clearTimeout(silence);
      controller.abort();
      done(error);
    };
    const heard = (): void => {
      clearTimeout(silence);
      silence = setTimeout(
        () => finish(new DOMException(`No event or bookmark for ${silenceMs / 1000} s`, 'TimeoutError')),
        silenceMs,
      );
      silence.unref();
    };
    try {
      heard();
      const response = await fetch(url, {
        method: 'GET',
        headers: context.getHeaders(),
        dispatcher: (await this.dispatcher()) ?? context.getDispatcher(),
        signal: controller.signal,
      });
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel();
        throw Object.assign(new Error(`watch ${path}: HTTP ${response.status}`), { statusCode: response.status });
      }
      heard();
      const body = Readable.fromWeb(response.body);
      body.on('data', heard);
      body.on('error', finish);
      body.on('close', () => finish(null));
      const lines = createInterface(body);
      lines.on('error', finish);
      lines.on('line', (line) => {
        let event: { type: string; object: unknown };
        try {
          event = JSON.parse(line) as { type: string; object: unknown };
        } catch {
          return;
        }
        callback(event.type, event.object, event);
      });
    } catch (error) {
      finish(error);
    }
    return controller;
  }
}

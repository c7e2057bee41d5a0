// A small Kubernetes API client over node:https, for the sandbox's controllers. They reach the
// API only through this (never the store), so they would run unchanged against a real
// kube-apiserver. Every call has a time limit; a watch is a stream of decoded events.
import { Agent, request } from 'node:https';
import { LongshoreError, isLongshoreError } from '@longshore/protocol';

export interface ClientConfig {
  server: string;
  caPem: string;
  token: string;
  userAgent?: string;
  timeoutMs?: number;
}

export interface ApiResult<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export type K8sObject = Record<string, unknown> & {
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
};

export interface WatchHandle {
  /** Resolves when the stream ends (server closed, error, or stop()). */
  done: Promise<void>;
  stop(): void;
}

export class KubeClient {
  private readonly agent: Agent;
  /** Watches hold their connection for as long as they run: they get their own pool, so they
   *  can never starve ordinary requests of sockets. */
  private readonly watchAgent: Agent;

  constructor(private readonly cfg: ClientConfig) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 32, ca: cfg.caPem });
    this.watchAgent = new Agent({ keepAlive: false, ca: cfg.caPem });
  }

  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }

  /** One request; resolves for every HTTP status (callers branch on it), rejects on network failure or timeout. */
  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<ApiResult<T>> {
    const timeoutMs = this.cfg.timeoutMs ?? 15_000;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        this.cfg.server + path,
        {
          method,
          agent: this.agent,
          headers: {
            Authorization: `Bearer ${this.cfg.token}`,
            Accept: 'application/json',
            'User-Agent': this.cfg.userAgent ?? 'longshore-sandbox',
            ...(payload !== undefined
              ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* a non-JSON answer is returned as text */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
          res.on('error', (err) => {
            clearTimeout(timer);
            reject(requestFailed(method, path, err));
          });
        },
      );
      const timer = setTimeout(
        () => req.destroy(new LongshoreError('TIMEOUT', `${method} ${path}: no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(isLongshoreError(err) ? err : requestFailed(method, path, err));
      });
      req.end(payload);
    });
  }

  /** A watch: `onEvent` for each line-framed JSON event; the stream ends on server close or stop(). */
  watch(path: string, onEvent: (type: string, object: K8sObject) => void): WatchHandle {
    let stop!: () => void;
    const done = new Promise<void>((resolve) => {
      const req = request(
        this.cfg.server + path,
        {
          method: 'GET',
          agent: this.watchAgent,
          headers: {
            Authorization: `Bearer ${this.cfg.token}`,
            Accept: 'application/json',
            'User-Agent': this.cfg.userAgent ?? 'longshore-sandbox',
          },
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            res.on('end', () => resolve());
            return;
          }
          res.setEncoding('utf8');
          let buf = '';
          res.on('data', (chunk: string) => {
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (!line.trim()) continue;
              try {
                const ev = JSON.parse(line) as { type: string; object: K8sObject };
                onEvent(ev.type, ev.object);
              } catch {
                req.destroy();
              }
            }
          });
          res.on('end', () => resolve());
          res.on('error', () => resolve());
          res.on('close', () => resolve());
        },
      );
      req.on('error', () => resolve());
      req.end();
      stop = () => {
        req.destroy();
        resolve();
      };
    });
    return { done, stop: () => stop() };
  }
}

/** Path of a collection or object: /api/v1/namespaces/ns/pods[/name] or /apis/apps/v1/deployments. */
export function apiPath(apiVersion: string, resource: string, namespace?: string, name?: string, sub?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${resource}${name ? `/${encodeURIComponent(name)}` : ''}${sub ? `/${sub}` : ''}`;
}

function requestFailed(method: string, path: string, err: Error): LongshoreError {
  return new LongshoreError('KUBE_API_REQUEST_FAILED', `${method} ${path}: ${err.message}`, undefined, { cause: err });
}

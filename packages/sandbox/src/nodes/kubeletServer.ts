// The kubelet's HTTPS endpoint for one virtual node, on the address and port its Node status
// advertises: /containerLogs/{ns}/{pod}/{container} (what kube-apiserver proxies pods/log to)
// and /stats/pods (CPU and memory per container, what a metrics server scrapes). kube-apiserver
// does not verify a kubelet's certificate unless --kubelet-certificate-authority is set, and
// the sandbox's API server skips verification the same way.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { LogStore } from './logStore.js';

export interface PodStats {
  namespace: string;
  name: string;
  containers: { name: string; cpuNanoCores: number; memoryBytes: number }[];
}

export class KubeletServer {
  private readonly server: Server;

  constructor(
    tls: { key: string; cert: string },
    private readonly logs: LogStore,
    private readonly stats: () => Promise<PodStats[]>,
    private readonly waitingReason: (ns: string, pod: string, container: string) => string | undefined,
  ) {
    this.server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const text = (code: number, body: string): void => {
        res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(body);
      };
      if (req.method !== 'GET') return text(405, 'method not allowed\n');
      if (url.pathname === '/healthz') return text(200, 'ok');
      if (url.pathname === '/stats/pods') {
        void this.stats().then(
          (s) => {
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify(s));
          },
          () => text(500, 'stats failed'),
        );
        return;
      }
      if (parts[0] !== 'containerLogs' || parts.length !== 4) return text(404, '404 page not found\n');
      const [, ns, pod, container] = parts as [string, string, string, string];
      const q = url.searchParams;
      const int = (k: string): number | undefined =>
        q.has(k) && /^\d+$/.test(q.get(k)!) ? Number(q.get(k)) : undefined;
      const previous = q.get('previous') === 'true';
      if (!this.logs.has(ns, pod, container, previous)) {
        const why = previous
          ? `previous terminated container "${container}" in pod "${pod}" not found`
          : `container "${container}" in pod "${pod}" is waiting to start: ${this.waitingReason(ns, pod, container) ?? 'ContainerCreating'}`;
        return text(400, why);
      }
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
      res.flushHeaders();
      this.logs.read(
        ns,
        pod,
        container,
        {
          follow: q.get('follow') === 'true',
          timestamps: q.get('timestamps') === 'true',
          previous,
          ...(q.get('sinceTime') ? { sinceTime: q.get('sinceTime')! } : {}),
          ...(int('sinceSeconds') !== undefined ? { sinceSeconds: int('sinceSeconds')! } : {}),
          ...(int('tailLines') !== undefined ? { tailLines: int('tailLines')! } : {}),
          ...(int('limitBytes') !== undefined ? { limitBytes: int('limitBytes')! } : {}),
        },
        { write: (c) => res.write(c), end: () => res.end(), onClose: (fn) => res.on('close', fn) },
      );
    });
    this.server.keepAliveTimeout = 60_000;
  }

  async listen(host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

// The kubelet's HTTPS endpoint for one virtual node, on the address and port its Node status
// advertises: /containerLogs/{ns}/{pod}/{container} (what kube-apiserver proxies pods/log to)
// and /stats/pods (CPU and memory per container, what a metrics server scrapes). kube-apiserver
// does not verify a kubelet's certificate unless --kubelet-certificate-authority is set, and
// the sandbox's API server skips verification the same way. The streaming routes — /exec and
// /attach/{ns}/{pod}/{container}, /portForward/{ns}/{pod} — are upgrades (WebSocket or SPDY,
// src/streaming/) served on the node's ContainerStreams.
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { servePortForwardUpgrade } from '../streaming/portForwardEndpoint.js';
import { remoteCommandOptions, serveRemoteCommandUpgrade } from '../streaming/remoteCommandEndpoint.js';
import { rawHttpAnswer } from '../streaming/websocketConnection.js';
import type { ContainerStreams } from './containerStreams.js';
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
    /** Absent on a node that runs no streams: the streaming routes answer 501. */
    private readonly containers?: ContainerStreams,
  ) {
    this.server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const text = (code: number, body: string): void => {
        res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(body);
      };
      if (['exec', 'attach', 'portForward'].includes(parts[0] ?? '')) return text(400, 'Upgrade request required\n');
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
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.server.keepAliveTimeout = 60_000;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://kubelet');
    let parts: string[];
    try {
      parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return rawHttpAnswer(socket, 400, 'Bad Request', 'malformed path\n');
    }
    const [route, namespace, pod, container] = parts as [string, string, string, string | undefined];
    const remoteCommand = (route === 'exec' || route === 'attach') && parts.length === 4;
    if (!remoteCommand && !(route === 'portForward' && parts.length === 3)) {
      return rawHttpAnswer(socket, 404, 'Not Found', '404 page not found\n');
    }
    if (!this.containers)
      return rawHttpAnswer(socket, 501, 'Not Implemented', `${route} is not supported by this node\n`);
    if (!remoteCommand) return servePortForwardUpgrade(req, socket, head, { namespace, pod }, this.containers);
    const opts = remoteCommandOptions(url.searchParams);
    if (typeof opts === 'string') return rawHttpAnswer(socket, 400, 'Bad Request', `${opts}\n`);
    const command = url.searchParams.getAll('command');
    if (route === 'exec' && !command.length)
      return rawHttpAnswer(socket, 400, 'Bad Request', 'you must specify a command\n');
    serveRemoteCommandUpgrade(
      req,
      socket,
      head,
      { kind: route, target: { namespace, pod, container: container! }, command, opts },
      this.containers,
    );
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

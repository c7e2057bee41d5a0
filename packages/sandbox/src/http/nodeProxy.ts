// What the API server asks of the virtual nodes' kubelet endpoints, as kube-apiserver and
// metrics-server do: pods/log is proxied to /containerLogs on the node's advertised address
// and port, and metrics.k8s.io/v1beta1 is built from each node's /stats/pods. Like
// kube-apiserver without --kubelet-certificate-authority, the node's certificate is not verified.
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { errors } from '../errors.js';
import type { Obj } from '../storage/objectMeta.js';
import type { ApiRequest, ServerContext } from './context.js';
import { sendJson } from './respond.js';

const TIMEOUT_MS = 10_000;

/** The base URL of a node's kubelet endpoint, from its Node status. */
export function kubeletEndpoint(sc: ServerContext, nodeName: string): string {
  const node = sc.store.get('/nodes', nodeName);
  if (!node) throw errors.badRequest(`node "${nodeName}" not found`);
  const status = (node.status ?? {}) as Obj;
  const addr = ((status.addresses ?? []) as Obj[]).find((a) => a.type === 'InternalIP')?.address;
  const port = ((((status.daemonEndpoints ?? {}) as Obj).kubeletEndpoint ?? {}) as Obj).Port;
  if (!addr || !port) throw errors.badRequest(`node "${nodeName}" has no kubelet endpoint`);
  return `https://${String(addr)}:${String(port)}`;
}

function get(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, timeout: TIMEOUT_MS }, resolve);
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const readAll = async (res: IncomingMessage): Promise<string> => {
  let s = '';
  res.setEncoding('utf8');
  for await (const c of res) s += c as string;
  return s;
};

/** Streams the node's answer for a container's log to the client (errors become 400 as kube-apiserver's do). */
export async function proxyPodLog(
  sc: ServerContext,
  ctx: ApiRequest,
  nodeName: string,
  ns: string,
  pod: string,
  container: string,
): Promise<number> {
  const q = new URLSearchParams();
  for (const k of ['follow', 'timestamps', 'sinceTime', 'sinceSeconds', 'tailLines', 'limitBytes', 'previous']) {
    const v = ctx.url.searchParams.get(k);
    if (v !== null) q.set(k, v);
  }
  const url = `${kubeletEndpoint(sc, nodeName)}/containerLogs/${encodeURIComponent(ns)}/${encodeURIComponent(pod)}/${encodeURIComponent(container)}?${q}`;
  let res: IncomingMessage;
  try {
    res = await get(url);
  } catch (err) {
    throw errors.internal(`error dialing backend: ${(err as Error).message}`);
  }
  res.socket?.setTimeout(0);
  if (res.statusCode !== 200) throw errors.badRequest((await readAll(res)).trim());
  ctx.res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  ctx.res.flushHeaders();
  res.pipe(ctx.res);
  ctx.res.on('close', () => res.destroy());
  return 200;
}

interface PodStats {
  namespace: string;
  name: string;
  containers: { name: string; cpuNanoCores: number; memoryBytes: number }[];
}

async function nodeStats(sc: ServerContext, nodeName: string): Promise<PodStats[]> {
  try {
    const res = await get(`${kubeletEndpoint(sc, nodeName)}/stats/pods`);
    return res.statusCode === 200 ? (JSON.parse(await readAll(res)) as PodStats[]) : [];
  } catch {
    return [];
  }
}

const ts = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const cpu = (n: number): string => `${Math.round(n)}n`;
const mem = (b: number): string => `${Math.round(b / 1024)}Ki`;

/** metrics.k8s.io/v1beta1 pods and nodes (get and list), as metrics-server serves them. */
export async function handleMetrics(sc: ServerContext, ctx: ApiRequest): Promise<number> {
  const { info } = ctx;
  const nodes = sc.store.list('/nodes', '').map((n) => n.metadata.name);
  const all = await Promise.all(nodes.map(async (n) => ({ node: n, pods: await nodeStats(sc, n) })));
  const apiVersion = 'metrics.k8s.io/v1beta1';
  if (info.resource === 'nodes') {
    const items = all
      .filter((n) => !info.name || n.node === info.name)
      .map((n) => {
        const sum = n.pods
          .flatMap((p) => p.containers)
          .reduce((a, c) => ({ c: a.c + c.cpuNanoCores, m: a.m + c.memoryBytes }), { c: 0, m: 0 });
        return {
          metadata: { name: n.node, creationTimestamp: ts() },
          timestamp: ts(),
          window: '10s',
          usage: { cpu: cpu(sum.c), memory: mem(sum.m) },
        };
      });
    if (info.name) {
      if (!items[0]) throw errors.notFound('nodes', 'metrics.k8s.io', info.name);
      sendJson(ctx.res, 200, { kind: 'NodeMetrics', apiVersion, ...items[0] });
    } else sendJson(ctx.res, 200, { kind: 'NodeMetricsList', apiVersion, metadata: {}, items });
    return 200;
  }
  const items = all
    .flatMap((n) => n.pods)
    .filter(
      (p) =>
        (!info.namespace || p.namespace === info.namespace) &&
        (!info.name || p.name === info.name) &&
        p.containers.length,
    )
    .map((p) => {
      const pod = sc.store.get('/pods', `${p.namespace}/${p.name}`);
      return {
        metadata: { name: p.name, namespace: p.namespace, creationTimestamp: ts(), labels: pod?.metadata.labels ?? {} },
        timestamp: ts(),
        window: '10s',
        containers: p.containers.map((c) => ({
          name: c.name,
          usage: { cpu: cpu(c.cpuNanoCores), memory: mem(c.memoryBytes) },
        })),
      };
    });
  if (info.name) {
    if (!items[0]) throw errors.notFound('pods', 'metrics.k8s.io', info.name);
    sendJson(ctx.res, 200, { kind: 'PodMetrics', apiVersion, ...items[0] });
  } else sendJson(ctx.res, 200, { kind: 'PodMetricsList', apiVersion, metadata: {}, items });
  return 200;
}

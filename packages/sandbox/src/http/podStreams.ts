// pods/exec, pods/attach and pods/portforward as kube-apiserver serves them
// (pkg/registry/core/pod: ExecLocation, AttachLocation, PortForwardLocation, then the
// UpgradeAwareHandler): the pod and container are checked, the options become the kubelet's
// query (command=..., input=1, output=1, error=1, tty=1; port=...), and the upgrade is relayed
// to the node's kubelet endpoint — its answer, 101 or refusal, goes back to the client as it
// came, and after a 101 the two sockets are joined. The kubelet's certificate is not verified,
// as kube-apiserver does not without --kubelet-certificate-authority.
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errors } from '../errors.js';
import type { Obj } from '../storage/objectMeta.js';
import type { ApiRequest, ServerContext, UpgradeRequest } from './context.js';
import { kubeletEndpoint } from './nodeProxy.js';

const DIAL_TIMEOUT_MS = 10_000;

/** Request headers that belong to this hop (or to the API server's authentication), not to the kubelet's. */
const HOP_HEADERS = new Set(['host', 'authorization', 'impersonate-user', 'impersonate-group', 'content-length']);

// Go's query conversion of a bool: absent, "0" and "false" are false, anything else true.
const flag = (q: URLSearchParams, k: string): boolean => q.has(k) && !['0', 'false'].includes(q.get(k)!.toLowerCase());

function containerOf(pod: Obj, name: string, requested: string): string {
  const spec = (pod.spec ?? {}) as Obj;
  const names = (key: string): string[] => ((spec[key] ?? []) as Obj[]).map((c) => String(c.name));
  const containers = names('containers');
  if (!requested) {
    if (containers.length === 1) return containers[0]!;
    if (!containers.length) throw errors.badRequest(`a container name must be specified for pod ${name}`);
    const init = names('initContainers');
    throw errors.badRequest(
      `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]` +
        (init.length ? ` or one of the init containers: [${init.join(' ')}]` : ''),
    );
  }
  if (![...containers, ...names('initContainers'), ...names('ephemeralContainers')].includes(requested)) {
    throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  return requested;
}

/** Serves pods/exec, pods/attach and pods/portforward. */
export async function podStream(sc: ServerContext, ctx: ApiRequest, ns: string, name: string): Promise<number> {
  const pod = sc.rest.get(ctx.def, ns, name) as unknown as Obj;
  const q = ctx.url.searchParams;
  const sub = ctx.info.subresource!;
  const params = new URLSearchParams();
  let path: string;
  if (sub === 'portforward') {
    for (const p of q.getAll('ports').flatMap((v) => v.split(','))) params.append('port', p);
    path = `/portForward/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
  } else {
    const container = containerOf(pod, name, q.get('container') ?? '');
    if (flag(q, 'stdin')) params.set('input', '1');
    if (flag(q, 'stdout')) params.set('output', '1');
    if (flag(q, 'stderr')) params.set('error', '1');
    if (flag(q, 'tty')) params.set('tty', '1');
    if (sub === 'exec') for (const c of q.getAll('command')) params.append('command', c);
    path = `/${sub}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`;
  }
  const nodeName = ((pod.spec ?? {}) as Obj).nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  if (!ctx.upgrade) throw errors.badRequest('Upgrade request required');
  const query = params.toString();
  return relayUpgrade(
    ctx.req,
    ctx.upgrade,
    `${kubeletEndpoint(sc, String(nodeName))}${path}${query ? `?${query}` : ''}`,
  );
}

function rawHead(statusCode: number, statusMessage: string, rawHeaders: string[]): string {
  const lines = [`HTTP/1.1 ${statusCode} ${statusMessage}`];
  for (let i = 0; i < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function join(a: Duplex, b: Duplex): void {
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end);
  b.on('error', end);
  a.on('close', end);
  b.on('close', end);
  a.pipe(b);
  b.pipe(a);
}

function relayUpgrade(req: IncomingMessage, client: UpgradeRequest, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // Repeated headers (X-Stream-Protocol-Version) must stay separate lines: rawHeaders keeps them so.
    const headers: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!HOP_HEADERS.has(req.rawHeaders[i]!.toLowerCase()))
        headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    }
    const out = request(target, {
      method: req.method,
      // No body: without a length Node would send a POST chunked, and its terminator would land in the stream protocol.
      headers: [...headers.flat(), 'Content-Length', '0'],
      rejectUnauthorized: false,
      timeout: DIAL_TIMEOUT_MS,
    });
    out.on('timeout', () => out.destroy(new Error(`no answer within ${DIAL_TIMEOUT_MS} ms`)));
    out.on('error', (err) => reject(errors.internal(`error dialing backend: ${err.message}`)));
    out.on('upgrade', (res, node: Duplex, nodeHead: Buffer) => {
      (node as Socket).setTimeout(0);
      client.socket.write(rawHead(res.statusCode ?? 101, res.statusMessage ?? 'Switching Protocols', res.rawHeaders));
      if (nodeHead.length) client.socket.write(nodeHead);
      if (client.head.length) node.write(client.head);
      join(client.socket, node);
      resolve(res.statusCode ?? 101);
    });
    out.on('response', (res) => {
      // A refusal from the kubelet reaches the client as the kubelet wrote it, as kube-apiserver relays it.
      const pairs: string[] = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        if (!/^(connection|transfer-encoding|content-length)$/i.test(res.rawHeaders[i]!)) {
          pairs.push(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        }
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const head = rawHead(res.statusCode ?? 502, res.statusMessage ?? '', [
          ...pairs,
          'Content-Length',
          String(body.length),
          'Connection',
          'close',
        ]);
        client.socket.end(Buffer.concat([Buffer.from(head), body]));
        resolve(res.statusCode ?? 502);
      });
      res.on('error', (err) => reject(errors.internal(`error reading the kubelet's answer: ${err.message}`)));
    });
    out.end();
  });
}

// The kubelet's /portForward upgrade (k8s.io/kubelet/pkg/cri/streaming/portforward) in its
// three forms: a WebSocket with two channels per port named in the query (data 2i, error 2i+1,
// each opened by the port as uint16 little-endian), SPDY/3.1 with `portforward.k8s.io` where
// the client opens a data and an error stream per connection (headers port, streamType,
// requestID), and the same SPDY carried inside a WebSocket (SPDY/3.1+portforward.k8s.io, what
// kubectl 1.31+ sends through kube-apiserver).
import type { IncomingMessage } from 'node:http';
import { Duplex, type Writable } from 'node:stream';
import type { ContainerStreams, StreamTarget } from '../nodes/containerStreams.js';
import { SpdySession } from './spdySession.js';
import type { SpdyStream } from './spdyStream.js';
import { isSpdyRequest, upgradeToSpdy } from './spdyUpgrade.js';
import { ChannelConnection, PORT_FORWARD_WEBSOCKET_PROTOCOLS } from './websocketChannels.js';
import { acceptWebSocket, isWebSocketRequest, offeredSubprotocols, rawHttpAnswer } from './websocketConnection.js';
import { SPDY_TUNNEL_PROTOCOL, tunnelStream } from './websocketTunnel.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
const STREAM_CREATION_TIMEOUT_MS = 30_000;

type PodTarget = Omit<StreamTarget, 'container'>;

/** A port as the kubelet accepts it in a query or header; a string is the refusal. */
export function parsePort(raw: string): number | string {
  if (!/^\d+$/.test(raw) || Number(raw) > 65_535) return `unable to parse "${raw}" as a port`;
  if (Number(raw) < 1) return `port "${raw}" must be > 0`;
  return Number(raw);
}

/** The ports of a WebSocket port-forward: `port` (what kube-apiserver sends) or `ports`, repeated or comma-separated. */
export function queryPorts(q: URLSearchParams): number[] | string {
  const raw = [...q.getAll('port'), ...q.getAll('ports')];
  if (!raw.length) return 'query parameter "port" is required';
  const ports: number[] = [];
  for (const value of raw) {
    if (!value) return 'query parameter "port" cannot be empty';
    for (const p of value.split(',')) {
      const port = parsePort(p);
      if (typeof port === 'string') return port;
      ports.push(port);
    }
  }
  return ports;
}

/** Connects `data` to the pod's port; a failure is written on `error` in the kubelet's words. */
async function forward(
  containers: ContainerStreams,
  target: PodTarget,
  port: number,
  data: Duplex,
  error: Writable,
): Promise<void> {
  let conn: Duplex;
  try {
    conn = await containers.portForward(target, port);
  } catch (err) {
    error.end(
      `error forwarding port ${port} to pod ${target.pod}_${target.namespace}, uid : ${(err as Error).message}`,
    );
    data.end();
    return;
  }
  await new Promise<void>((resolve) => {
    let open = 2;
    const half = (): void => {
      if (--open === 0) resolve();
    };
    conn.on('error', () => data.end());
    data.on('error', () => conn.destroy());
    conn.on('end', half);
    data.on('end', half);
    conn.on('close', resolve);
    data.on('close', resolve);
    data.pipe(conn);
    conn.pipe(data);
  });
  conn.destroy();
  error.end();
}

export function servePortForwardUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: PodTarget,
  containers: ContainerStreams,
): void {
  if (isWebSocketRequest(req)) {
    if (offeredSubprotocols(req).includes(SPDY_TUNNEL_PROTOCOL)) {
      const ws = acceptWebSocket(req, socket, head, [SPDY_TUNNEL_PROTOCOL]);
      if (ws) spdyPortForward(tunnelStream(ws), Buffer.alloc(0), target, containers);
      return;
    }
    const ports = queryPorts(new URL(req.url ?? '/', 'https://kubelet').searchParams);
    if (typeof ports === 'string') return rawHttpAnswer(socket, 400, 'Bad Request', `${ports}\n`);
    const ws = acceptWebSocket(req, socket, head, PORT_FORWARD_WEBSOCKET_PROTOCOLS);
    if (!ws) return;
    const ch = new ChannelConnection(ws, ports.length * 2);
    void Promise.all(
      ports.map(async (port, i) => {
        const portBytes = Buffer.alloc(2);
        portBytes.writeUInt16LE(port);
        await ch.send(2 * i, portBytes);
        await ch.send(2 * i + 1, portBytes);
        const data = joinDuplex(ch, 2 * i);
        await forward(containers, target, port, data, ch.output(2 * i + 1));
      }),
    ).finally(() => ch.close());
    return;
  }
  if (!isSpdyRequest(req)) return rawHttpAnswer(socket, 400, 'Bad Request', 'Upgrade request required\n');
  if (!upgradeToSpdy(req, socket, [PORT_FORWARD_PROTOCOL])) return;
  spdyPortForward(socket, head, target, containers);
}

/** A channel's input and output as one Duplex, for piping to the pod's connection. */
function joinDuplex(ch: ChannelConnection, channel: number): Duplex {
  const input = ch.input(channel);
  const output = ch.output(channel);
  const d = new Duplex({
    read: () => {
      input.resume();
    },
    write: (chunk: Buffer, enc, cb) => output.write(chunk, enc, cb),
    final: (cb) => cb(),
  });
  input.on('data', (c: Buffer) => {
    if (!d.push(c)) input.pause();
  });
  input.on('end', () => d.push(null));
  return d;
}

function spdyPortForward(transport: Duplex, head: Buffer, target: PodTarget, containers: ContainerStreams): void {
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream; timer: NodeJS.Timeout }>();
  const requestId = (s: SpdyStream): string => {
    const id = s.header('requestID');
    if (id !== undefined) return id;
    // Clients before requestID existed open error then data, with consecutive odd ids.
    return String(s.header('streamType') === 'error' ? s.id : s.id - 2);
  };
  new SpdySession(
    transport,
    {
      accept: (h) => {
        const port = h.get('port')?.[0];
        const type = h.get('streamtype')?.[0];
        return port !== undefined && typeof parsePort(port) === 'number' && (type === 'data' || type === 'error');
      },
      onStream: (s) => {
        const id = requestId(s);
        const pair = pairs.get(id) ?? {
          timer: setTimeout(() => {
            pairs.delete(id);
            pair.error?.end('timed out waiting for streams');
            pair.data?.destroy();
          }, STREAM_CREATION_TIMEOUT_MS),
        };
        pairs.set(id, pair);
        if (s.header('streamType') === 'data') pair.data = s;
        else {
          pair.error = s;
          s.resume();
        }
        if (!pair.data || !pair.error) return;
        clearTimeout(pair.timer);
        pairs.delete(id);
        void forward(containers, target, Number(pair.data.header('port')), pair.data, pair.error);
      },
      onClose: () => {
        for (const p of pairs.values()) clearTimeout(p.timer);
        pairs.clear();
      },
    },
    head,
  );
}

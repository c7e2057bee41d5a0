// The kubelet's /exec and /attach upgrades (k8s.io/kubelet/pkg/cri/streaming/remotecommand):
// a WebSocket with the channel protocols, or SPDY/3.1 where the client opens one stream per
// streamType (error, stdin, stdout, stderr, resize). The session starts before the upgrade, so
// a refusal (container not running, no stdin) is still an HTTP answer with its status.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  StreamRefused,
  type ContainerStreams,
  type StreamOptions,
  type StreamSession,
  type StreamTarget,
} from '../nodes/containerStreams.js';
import { serveRemoteCommand, type RemoteCommandStreams } from './remoteCommand.js';
import { SpdySession } from './spdySession.js';
import type { SpdyStream } from './spdyStream.js';
import { isSpdyRequest, upgradeToSpdy } from './spdyUpgrade.js';
import { ChannelConnection, REMOTE_COMMAND_WEBSOCKET_PROTOCOLS } from './websocketChannels.js';
import { acceptWebSocket, isWebSocketRequest, rawHttpAnswer } from './websocketConnection.js';

/** The SPDY stream protocols, newest first (kubelet's SupportedStreamingProtocols). */
export const REMOTE_COMMAND_SPDY_PROTOCOLS = [
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
];
/** How long a SPDY client has to open the streams it asked for (the kubelet's streamCreationTimeout). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

export interface RemoteCommandRequest {
  kind: 'exec' | 'attach';
  target: StreamTarget;
  command: string[];
  opts: StreamOptions;
}

/** The options as the kubelet reads them from the query kube-apiserver builds (input=1, output=1, ...). */
export function remoteCommandOptions(q: URLSearchParams): StreamOptions | string {
  const on = (k: string): boolean => q.get(k) === '1' || q.get(k) === 'true';
  const tty = on('tty');
  const opts = { stdin: on('input'), stdout: on('output'), stderr: on('error') && !tty, tty };
  if (!opts.stdin && !opts.stdout && !opts.stderr) return 'you must specify at least 1 of stdin, stdout, stderr';
  return opts;
}

export function serveRemoteCommandUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  r: RemoteCommandRequest,
  containers: ContainerStreams,
): void {
  const websocket = isWebSocketRequest(req);
  if (!websocket && !isSpdyRequest(req)) {
    rawHttpAnswer(socket, 400, 'Bad Request', 'Upgrade request required\n');
    return;
  }
  let session: StreamSession;
  try {
    session = r.kind === 'exec' ? containers.exec(r.target, r.command, r.opts) : containers.attach(r.target, r.opts);
  } catch (err) {
    const status = err instanceof StreamRefused ? err.status : 500;
    rawHttpAnswer(
      socket,
      status,
      status === 404 ? 'Not Found' : status === 500 ? 'Internal Server Error' : 'Bad Request',
      `${(err as Error).message}\n`,
    );
    return;
  }
  if (websocket) overWebSocket(req, socket, head, r, session);
  else overSpdy(req, socket, head, r, session);
}

function overWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  r: RemoteCommandRequest,
  session: StreamSession,
): void {
  const ws = acceptWebSocket(req, socket, head, REMOTE_COMMAND_WEBSOCKET_PROTOCOLS);
  if (!ws) return session.close();
  const ch = new ChannelConnection(ws, 5);
  const streams: RemoteCommandStreams = {
    ...(r.opts.stdin ? { stdin: ch.input(0) } : {}),
    ...(r.opts.stdout ? { stdout: ch.output(1) } : {}),
    ...(r.opts.stderr ? { stderr: ch.output(2) } : {}),
    error: ch.output(3),
    ...(r.opts.tty ? { resize: ch.input(4) } : {}),
  };
  let done = false;
  ch.onClose(() => {
    if (!done) session.close();
  });
  const format = /^v[45]\./.test(ws.protocol) ? 'json' : 'text';
  void serveRemoteCommand(r.kind, r.command, session, streams, format).finally(() => {
    done = true;
    ch.close();
  });
}

function overSpdy(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  r: RemoteCommandRequest,
  session: StreamSession,
): void {
  const protocol = upgradeToSpdy(req, socket, REMOTE_COMMAND_SPDY_PROTOCOLS);
  if (!protocol) return session.close();
  const expected = new Set(['error']);
  if (r.opts.stdin) expected.add('stdin');
  if (r.opts.stdout) expected.add('stdout');
  if (r.opts.stderr) expected.add('stderr');
  if (r.opts.tty && protocol !== 'channel.k8s.io' && protocol !== 'v2.channel.k8s.io') expected.add('resize');
  const received = new Map<string, SpdyStream>();
  let started = false;
  let done = false;
  const spdy = new SpdySession(
    socket,
    {
      accept: (h) => {
        const type = h.get('streamtype')?.[0] ?? '';
        return ['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type) && !received.has(type);
      },
      onStream: (s) => {
        const type = s.header('streamType')!;
        received.set(type, s);
        // A stream nobody asked for (stderr with a tty) is read and dropped, as the kubelet does.
        if (!expected.has(type)) s.resume();
        if (started || ![...expected].every((t) => received.has(t))) return;
        started = true;
        clearTimeout(timer);
        const streams: RemoteCommandStreams = {
          ...(received.has('stdin') && r.opts.stdin ? { stdin: received.get('stdin')! } : {}),
          ...(r.opts.stdout ? { stdout: received.get('stdout')! } : {}),
          ...(r.opts.stderr ? { stderr: received.get('stderr')! } : {}),
          error: received.get('error')!,
          ...(expected.has('resize') ? { resize: received.get('resize')! } : {}),
        };
        void serveRemoteCommand(
          r.kind,
          r.command,
          session,
          streams,
          protocol === 'v4.channel.k8s.io' ? 'json' : 'text',
        ).finally(() => {
          done = true;
          spdy.close();
        });
      },
      onClose: () => {
        clearTimeout(timer);
        if (!done) session.close();
      },
    },
    head,
  );
  const timer = setTimeout(() => spdy.close(), STREAM_CREATION_TIMEOUT_MS);
}

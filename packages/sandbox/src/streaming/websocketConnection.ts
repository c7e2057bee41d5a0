// The server side of a WebSocket (RFC 6455): the opening handshake with subprotocol choice as
// k8s.io/apimachinery's wsstream makes it (the first protocol the client lists that the server
// supports; none offered means the unnamed default; no match is 403), then messages assembled
// from fragments, pings answered, and the closing handshake.
import { createHash } from 'node:crypto';
import { drained } from './socketDrain.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, encodeFrame, Opcode, WebSocketProtocolError, WsFrameReader } from './websocketFrames.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Messages over this are refused with 1009: a stream's frames are small, and memory stays bounded. */
const MAX_MESSAGE = 16 * 1024 * 1024;

export function isWebSocketRequest(req: IncomingMessage): boolean {
  const connection = String(req.headers.connection ?? '').toLowerCase();
  return (
    connection.split(',').some((t) => t.trim() === 'upgrade') &&
    String(req.headers.upgrade).toLowerCase() === 'websocket'
  );
}

/** The subprotocols the client offered, in its order of preference. */
export function offeredSubprotocols(req: IncomingMessage): string[] {
  const raw = req.headers['sec-websocket-protocol'];
  return (Array.isArray(raw) ? raw.join(',') : (raw ?? ''))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

export function rawHttpAnswer(
  socket: Duplex,
  status: number,
  reason: string,
  body: string,
  headers: string[] = [],
): void {
  const b = Buffer.from(body);
  socket.end(
    [
      `HTTP/1.1 ${status} ${reason}`,
      'Content-Type: text/plain; charset=utf-8',
      `Content-Length: ${b.length}`,
      ...headers,
      'Connection: close',
      '',
      '',
    ].join('\r\n') + body,
  );
}

/** Answers the handshake; undefined when it was refused (the answer is already written). */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  supported: string[],
): WebSocketConnection | undefined {
  const key = req.headers['sec-websocket-key'];
  if (req.method !== 'GET' || typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13') {
    rawHttpAnswer(
      socket,
      400,
      'Bad Request',
      'not a WebSocket handshake (GET with Sec-WebSocket-Key and version 13)\n',
    );
    return undefined;
  }
  const offered = offeredSubprotocols(req);
  const chosen = (offered.length ? offered : ['']).find((p) => supported.includes(p));
  if (chosen === undefined) {
    rawHttpAnswer(
      socket,
      403,
      'Forbidden',
      `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.join(' ')}]\n`,
    );
    return undefined;
  }
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  socket.write(
    [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${accept}`,
      ...(chosen ? [`Sec-WebSocket-Protocol: ${chosen}`] : []),
      '',
      '',
    ].join('\r\n'),
  );
  return new WebSocketConnection(socket, chosen, head);
}

export interface WebSocketMessage {
  data: Buffer;
  binary: boolean;
}

export class WebSocketConnection {
  private readonly reader = new WsFrameReader(MAX_MESSAGE);
  private fragments: Buffer[] = [];
  private fragmentSize = 0;
  private fragmentOpcode = 0;
  private closeSent = false;
  private closed = false;
  private readonly messageHandlers: ((m: WebSocketMessage) => void)[] = [];
  private readonly closeHandlers: (() => void)[] = [];

  constructor(
    private readonly socket: Duplex,
    readonly protocol: string,
    head: Buffer,
  ) {
    socket.on('data', (c: Buffer) => this.receive(c));
    socket.on('close', () => this.finish());
    socket.on('end', () => this.finish());
    socket.on('error', () => this.finish());
    if (head.length) queueMicrotask(() => this.receive(head));
  }

  onMessage(fn: (m: WebSocketMessage) => void): void {
    this.messageHandlers.push(fn);
  }

  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closeHandlers.push(fn);
  }

  get isOpen(): boolean {
    return !this.closed && !this.closeSent;
  }

  /** Sends one message; resolves once the socket has taken it (backpressure). */
  send(data: Buffer | string): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    const frame =
      typeof data === 'string' ? encodeFrame(Opcode.Text, Buffer.from(data)) : encodeFrame(Opcode.Binary, data);
    return this.socket.write(frame) ? Promise.resolve() : drained(this.socket);
  }

  /** Starts the closing handshake; the socket ends when the client answers (or after a grace period). */
  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.closeSent || this.closed) return;
    this.closeSent = true;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.socket.write(encodeFrame(Opcode.Close, payload));
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    try {
      for (const f of this.reader.push(chunk)) {
        if (f.opcode === Opcode.Ping) this.socket.write(encodeFrame(Opcode.Pong, f.payload));
        else if (f.opcode === Opcode.Pong) continue;
        else if (f.opcode === Opcode.Close) {
          if (!this.closeSent) {
            this.closeSent = true;
            this.socket.write(encodeFrame(Opcode.Close, f.payload.subarray(0, 2)));
          }
          this.socket.end();
          this.finish();
          return;
        } else this.data(f.fin, f.opcode, f.payload);
      }
    } catch (err) {
      const e =
        err instanceof WebSocketProtocolError ? err : new WebSocketProtocolError(String(err), CloseCode.InternalError);
      this.close(e.closeCode, e.message.slice(0, 120));
      this.socket.end();
      this.finish();
    }
  }

  private data(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Continuation) {
      if (!this.fragmentOpcode) throw new WebSocketProtocolError('continuation frame without a message to continue');
    } else {
      if (this.fragmentOpcode) throw new WebSocketProtocolError('new message before the previous one ended');
      this.fragmentOpcode = opcode;
    }
    this.fragmentSize += payload.length;
    if (this.fragmentSize > MAX_MESSAGE) throw new WebSocketProtocolError('message too large', CloseCode.TooBig);
    this.fragments.push(payload);
    if (!fin) return;
    const message = { data: Buffer.concat(this.fragments), binary: this.fragmentOpcode === Opcode.Binary };
    this.fragments = [];
    this.fragmentSize = 0;
    this.fragmentOpcode = 0;
    for (const h of this.messageHandlers) h(message);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHandlers.splice(0)) h();
  }
}

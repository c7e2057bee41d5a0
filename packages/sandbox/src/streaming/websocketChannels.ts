// Kubernetes' channel protocols over one WebSocket (k8s.io/apimachinery wsstream): every
// message starts with its channel number (a byte, or in the base64 protocols an ASCII digit
// followed by base64 data in a text message). v5.channel.k8s.io adds message [255, n]: the
// client closed channel n (stdin's EOF), which the older protocols cannot express.
import { PassThrough, Writable, type Readable } from 'node:stream';
import type { WebSocketConnection } from './websocketConnection.js';

/** v5's close-channel signal (remotecommand.StreamClose). */
export const CLOSE_CHANNEL = 255;

/** The exec/attach subprotocols the kubelet serves, newest first ('' is a client that names none). */
export const REMOTE_COMMAND_WEBSOCKET_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v4.base64.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
  'base64.channel.k8s.io',
  '',
];

/** The port-forward subprotocols of the kubelet's WebSocket port-forward. */
export const PORT_FORWARD_WEBSOCKET_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io', ''];

export const isBase64Protocol = (p: string): boolean => p.includes('base64.');

export class ChannelConnection {
  private readonly inputs: PassThrough[];
  private readonly base64: boolean;
  private readonly closable: boolean;

  constructor(
    private readonly ws: WebSocketConnection,
    channels: number,
  ) {
    this.base64 = isBase64Protocol(ws.protocol);
    this.closable = ws.protocol.startsWith('v5.');
    this.inputs = Array.from({ length: channels }, () => new PassThrough());
    ws.onMessage(({ data }) => this.receive(data));
    ws.onClose(() => {
      for (const i of this.inputs) i.end();
    });
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  /** What the client sends on `channel`; ends on v5's close signal or when the WebSocket closes. */
  input(channel: number): Readable {
    return this.inputs[channel]!;
  }

  /** Writes on `channel`; ending it sends nothing (the channel protocols have no per-channel end from the server). */
  output(channel: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        void this.send(channel, chunk).then(() => cb(), cb);
      },
    });
  }

  send(channel: number, data: Buffer): Promise<void> {
    if (this.base64) return this.ws.send(String.fromCharCode(48 + channel) + data.toString('base64'));
    return this.ws.send(Buffer.concat([Buffer.from([channel]), data]));
  }

  close(): void {
    this.ws.close();
  }

  onClose(fn: () => void): void {
    this.ws.onClose(fn);
  }

  private receive(message: Buffer): void {
    if (message.length === 0) return;
    let channel = message[0]!;
    let data = message.subarray(1);
    if (this.base64) {
      channel -= 48;
      data = Buffer.from(data.toString('latin1'), 'base64');
    }
    if (this.closable && channel === CLOSE_CHANNEL) {
      if (data.length) this.inputs[data[0]!]?.end();
      return;
    }
    const input = this.inputs[channel];
    // As wsstream does: data for a channel that does not exist, or after its close, is dropped.
    if (input && !input.writableEnded) input.write(data);
  }
}

// One SPDY stream as a Node Duplex: what the peer sends arrives on the readable side (ended by
// its FIN), what is written leaves as DATA frames (ended by ours). Flow control: the receive
// window is handed back (WINDOW_UPDATE) as the reader consumes, so a slow reader slows the
// peer; the send window is honoured once the peer shows it does flow control — moby/spdystream,
// which every Kubernetes client and the kubelet use, never sends WINDOW_UPDATE, and waiting for
// one would stall every stream after its first 64 KiB.
import { Duplex } from 'node:stream';
import type { HeaderBlock } from './spdyFrames.js';

/** SPDY/3's default initial window, per stream and (3.1) per connection. */
export const DEFAULT_WINDOW = 65_536;
/** DATA frames are cut to this size so one stream cannot hold the connection for long. */
const MAX_DATA_FRAME = 16_384;

export interface StreamOwner {
  sendData(streamId: number, data: Buffer, fin: boolean): Promise<void>;
  /** The peer may send `bytes` more on this stream (and on the connection). */
  grantWindow(streamId: number, bytes: number): void;
  /** Resolves when `bytes` may be sent on this stream under the peer's window (at once if it does no flow control). */
  sendCredit(stream: SpdyStream, bytes: number): Promise<number>;
  reset(streamId: number, status: number): void;
  forget(streamId: number): void;
}

export class SpdyStream extends Duplex {
  /** Bytes received but not yet handed back to the peer as window. */
  private unacknowledged = 0;
  sendWindow: number;
  private remoteEnded = false;
  private localEnded = false;

  constructor(
    readonly id: number,
    readonly headers: HeaderBlock,
    private readonly owner: StreamOwner,
    initialSendWindow: number,
  ) {
    super({ allowHalfOpen: true });
    this.sendWindow = initialSendWindow;
  }

  /** The first value of a request header, as http.Header.Get reads it. */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  /** DATA from the peer. */
  receive(data: Buffer, fin: boolean): void {
    if (this.remoteEnded) return;
    if (data.length) {
      this.unacknowledged += data.length;
      if (this.push(data)) this.acknowledge();
    }
    if (fin) this.remoteFinished();
  }

  remoteFinished(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    this.push(null);
    this.maybeForget();
  }

  /** The peer reset the stream or the connection went away: readers see the end, writes are dropped. */
  abort(): void {
    this.remoteEnded = true;
    this.localEnded = true;
    this.owner.forget(this.id);
    // Not an error: a client going away is how every session ends, and nothing must throw for it.
    this.destroy();
  }

  private acknowledge(): void {
    if (this.unacknowledged === 0) return;
    this.owner.grantWindow(this.id, this.unacknowledged);
    this.unacknowledged = 0;
  }

  override _read(): void {
    this.acknowledge();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    void this.sendAll(chunk).then(() => cb(), cb);
  }

  private async sendAll(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      const credit = await this.owner.sendCredit(this, Math.min(MAX_DATA_FRAME, chunk.length - at));
      await this.owner.sendData(this.id, chunk.subarray(at, at + credit), false);
      at += credit;
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.localEnded = true;
    void this.owner.sendData(this.id, Buffer.alloc(0), true).then(() => {
      this.maybeForget();
      cb();
    }, cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.localEnded || !this.remoteEnded) this.owner.reset(this.id, 5 /* CANCEL */);
    this.owner.forget(this.id);
    cb(err);
  }

  private maybeForget(): void {
    if (this.localEnded && this.remoteEnded) this.owner.forget(this.id);
  }
}

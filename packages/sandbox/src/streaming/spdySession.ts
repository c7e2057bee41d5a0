// The server end of a SPDY/3.1 connection, as the kubelet's spdystream runs it after the
// upgrade: the client opens streams (SYN_STREAM, odd ids), the server accepts each with a
// SYN_REPLY or refuses it with RST_STREAM, pings are echoed, GOAWAY ends it. Frames are handled
// strictly in arrival order because header blocks share one zlib context.
import type { Duplex } from 'node:stream';
import { drained } from './socketDrain.js';
import { DEFAULT_WINDOW, SpdyStream, type StreamOwner } from './spdyStream.js';
import {
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  FLAG_FIN,
  FrameReader,
  FrameType,
  goAwayFrame,
  readIdAndValue,
  readSettings,
  readSynStream,
  RstStatus,
  rstStreamFrame,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SpdyProtocolError,
  synReplyFrame,
  windowUpdateFrame,
  type HeaderBlock,
  type SpdyFrame,
} from './spdyFrames.js';
import { HeaderCompression } from './spdyHeaderCompression.js';

const GOAWAY_OK = 0;
const GOAWAY_PROTOCOL_ERROR = 1;

export interface SpdySessionHandlers {
  /** Decides on a new stream from its headers: accept (SYN_REPLY) or refuse (RST_STREAM REFUSED_STREAM). */
  accept(headers: HeaderBlock): boolean;
  /** An accepted stream, after its SYN_REPLY is on the wire. */
  onStream(stream: SpdyStream): void;
  /** The connection ended (peer closed, GOAWAY, protocol error or close()). */
  onClose(): void;
}

export class SpdySession implements StreamOwner {
  private readonly reader = new FrameReader();
  private readonly compression = new HeaderCompression();
  private readonly streams = new Map<number, SpdyStream>();
  private queue: Promise<void> = Promise.resolve();
  private lastStreamId = 0;
  private peerInitialWindow = DEFAULT_WINDOW;
  private connectionSendWindow = DEFAULT_WINDOW;
  /** Set once the peer sends WINDOW_UPDATE: from then on its windows are honoured (see spdyStream.ts). */
  private peerDoesFlowControl = false;
  private readonly windowWaiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly socket: Duplex,
    private readonly handlers: SpdySessionHandlers,
    /** Bytes that arrived with the upgrade request, before the socket was handed over. */
    head: Buffer = Buffer.alloc(0),
  ) {
    const receive = (chunk: Buffer): void => {
      let frames: SpdyFrame[];
      try {
        frames = this.reader.push(chunk);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const f of frames) this.queue = this.queue.then(() => this.handle(f)).catch((err: Error) => this.fail(err));
    };
    if (head.length) receive(head);
    socket.on('data', receive);
    socket.on('close', () => this.shutdown('connection closed'));
    socket.on('end', () => this.shutdown('connection closed by the peer'));
    socket.on('error', () => this.shutdown('connection failed'));
  }

  /** Ends the connection as the kubelet does when a session is over: GOAWAY, then close. */
  close(): void {
    if (this.closed) return;
    this.write(goAwayFrame(this.lastStreamId, GOAWAY_OK));
    this.socket.end();
    this.shutdown('session closed');
  }

  private fail(err: Error): void {
    if (this.closed) return;
    if (err instanceof SpdyProtocolError) this.write(goAwayFrame(this.lastStreamId, GOAWAY_PROTOCOL_ERROR));
    this.socket.end();
    this.shutdown(err.message);
  }

  private shutdown(why: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) s.abort();
    this.streams.clear();
    this.compression.close();
    for (const w of this.windowWaiters) w();
    this.windowWaiters.clear();
    this.handlers.onClose();
  }

  private write(buf: Buffer): boolean {
    if (this.socket.writable) return this.socket.write(buf);
    return true;
  }

  private async handle(f: SpdyFrame): Promise<void> {
    if (this.closed) return;
    if (f.kind === 'data') {
      const s = this.streams.get(f.streamId);
      if (!s) {
        this.write(rstStreamFrame(f.streamId, RstStatus.InvalidStream));
        return;
      }
      s.receive(f.data, (f.flags & FLAG_FIN) !== 0);
      return;
    }
    switch (f.type) {
      case FrameType.SynStream:
        return this.synStream(f.payload, f.flags);
      case FrameType.SynReply:
      case FrameType.Headers:
        // Not expected from a client, but the block must still pass through the shared zlib context.
        await this.compression.decompress(f.payload.subarray(4));
        return;
      case FrameType.RstStream: {
        const { id, value } = readIdAndValue(f.payload, 'RST_STREAM');
        this.streams.get(id)?.abort();
        void value;
        return;
      }
      case FrameType.Settings: {
        const w = readSettings(f.payload).get(SETTINGS_INITIAL_WINDOW_SIZE);
        if (w !== undefined) {
          for (const s of this.streams.values()) s.sendWindow += w - this.peerInitialWindow;
          this.peerInitialWindow = w;
        }
        return;
      }
      case FrameType.Ping:
        if (f.payload.length !== 4) throw new SpdyProtocolError('PING is not 4 bytes');
        // Client pings have odd ids; an even id would be the answer to one of ours (we send none).
        if (f.payload.readUInt32BE(0) % 2 === 1) this.write(controlFrame(FrameType.Ping, 0, f.payload));
        return;
      case FrameType.GoAway:
        this.socket.end();
        this.shutdown('the peer sent GOAWAY');
        return;
      case FrameType.WindowUpdate: {
        const { id, value } = readIdAndValue(f.payload, 'WINDOW_UPDATE');
        this.peerDoesFlowControl = true;
        if (id === 0) this.connectionSendWindow += value & 0x7fffffff;
        else {
          const s = this.streams.get(id);
          if (s) s.sendWindow += value & 0x7fffffff;
        }
        for (const w of this.windowWaiters) w();
        this.windowWaiters.clear();
        return;
      }
      default:
        // SPDY/3 says unknown control frames are ignored.
        return;
    }
  }

  private async synStream(payload: Buffer, flags: number): Promise<void> {
    const syn = readSynStream(payload);
    // The block is decompressed even for a stream that is refused, to keep the zlib context in step.
    const headers = decodeHeaderBlock(await this.compression.decompress(syn.compressedHeaders));
    if (syn.streamId === 0 || syn.streamId % 2 === 0 || syn.streamId <= this.lastStreamId) {
      this.write(rstStreamFrame(syn.streamId, RstStatus.ProtocolError));
      return;
    }
    this.lastStreamId = syn.streamId;
    if (!this.handlers.accept(headers)) {
      this.write(rstStreamFrame(syn.streamId, RstStatus.RefusedStream));
      return;
    }
    const stream = new SpdyStream(syn.streamId, headers, this, this.peerInitialWindow);
    this.streams.set(syn.streamId, stream);
    this.write(synReplyFrame(syn.streamId, 0, await this.compression.compress(encodeHeaderBlock(new Map()))));
    if (flags & FLAG_FIN) stream.remoteFinished();
    this.handlers.onStream(stream);
  }

  // StreamOwner: what a stream asks of its connection.

  async sendData(streamId: number, data: Buffer, fin: boolean): Promise<void> {
    if (this.closed) throw new Error('the SPDY connection is closed');
    if (!this.write(dataFrame(streamId, fin ? FLAG_FIN : 0, data))) await drained(this.socket);
  }

  grantWindow(streamId: number, bytes: number): void {
    if (this.closed) return;
    this.write(Buffer.concat([windowUpdateFrame(streamId, bytes), windowUpdateFrame(0, bytes)]));
  }

  async sendCredit(stream: SpdyStream, bytes: number): Promise<number> {
    for (;;) {
      if (this.closed) throw new Error('the SPDY connection is closed');
      if (!this.peerDoesFlowControl) return bytes;
      const credit = Math.min(bytes, stream.sendWindow, this.connectionSendWindow);
      if (credit > 0) {
        stream.sendWindow -= credit;
        this.connectionSendWindow -= credit;
        return credit;
      }
      await new Promise<void>((resolve) => this.windowWaiters.add(resolve));
    }
  }

  reset(streamId: number, status: number): void {
    if (!this.closed) this.write(rstStreamFrame(streamId, status));
  }

  forget(streamId: number): void {
    this.streams.delete(streamId);
  }
}

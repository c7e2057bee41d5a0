// SPDY/3.1 frames on the wire (draft-mbelshe-httpbis-spdy-00, with 3.1's connection window),
// as moby/spdystream writes them for client-go: 8-byte headers, big-endian fields, and header
// blocks of length-prefixed name/value pairs (values joined by NUL). Compression of header
// blocks is not done here (spdyHeaderCompression.ts); this file only encodes and decodes.

export const SPDY_VERSION = 3;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
/** RST_STREAM status codes used here. */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  Cancel: 5,
  FlowControlError: 7,
} as const;
/** SETTINGS id for the initial per-stream window. */
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;

/** A frame the peer sent that SPDY/3.1 does not allow: the session ends with GOAWAY PROTOCOL_ERROR. */
export class SpdyProtocolError extends Error {
  override readonly name = 'SpdyProtocolError';
  readonly code = 'SPDY_PROTOCOL_ERROR';
}

export type SpdyFrame =
  | { kind: 'data'; streamId: number; flags: number; data: Buffer }
  | { kind: 'control'; type: number; flags: number; payload: Buffer };

/** Control frames are small in practice; a peer claiming more than this is refused, not buffered. */
const MAX_CONTROL_PAYLOAD = 1 << 20;

/** Accumulates bytes from the connection and yields whole frames. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SpdyFrame[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: SpdyFrame[] = [];
    while (this.buffered.length >= 8) {
      const b = this.buffered;
      const length = b.readUIntBE(5, 3);
      const control = (b[0]! & 0x80) !== 0;
      if (control) {
        const version = b.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
        if (length > MAX_CONTROL_PAYLOAD) throw new SpdyProtocolError(`control frame of ${length} bytes`);
      }
      if (b.length < 8 + length) break;
      const payload = b.subarray(8, 8 + length);
      const flags = b[4]!;
      frames.push(
        control
          ? { kind: 'control', type: b.readUInt16BE(2), flags, payload }
          : { kind: 'data', streamId: b.readUInt32BE(0) & 0x7fffffff, flags, data: payload },
      );
      this.buffered = b.subarray(8 + length);
    }
    return frames;
  }
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return Buffer.concat([head, payload]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(data.length, 4);
  head[4] = flags;
  return Buffer.concat([head, data]);
}

const u32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
};

export const rstStreamFrame = (streamId: number, status: number): Buffer =>
  controlFrame(FrameType.RstStream, 0, u32(streamId & 0x7fffffff, status));
export const goAwayFrame = (lastGoodStreamId: number, status: number): Buffer =>
  controlFrame(FrameType.GoAway, 0, u32(lastGoodStreamId & 0x7fffffff, status));
export const windowUpdateFrame = (streamId: number, delta: number): Buffer =>
  controlFrame(FrameType.WindowUpdate, 0, u32(streamId & 0x7fffffff, delta & 0x7fffffff));
export const pingFrame = (id: number): Buffer => controlFrame(FrameType.Ping, 0, u32(id));
export const synReplyFrame = (streamId: number, flags: number, compressedHeaders: Buffer): Buffer =>
  controlFrame(FrameType.SynReply, flags, Buffer.concat([u32(streamId & 0x7fffffff), compressedHeaders]));

export interface SynStream {
  streamId: number;
  associatedStreamId: number;
  priority: number;
  compressedHeaders: Buffer;
}

export function readSynStream(payload: Buffer): SynStream {
  if (payload.length < 10) throw new SpdyProtocolError('SYN_STREAM shorter than 10 bytes');
  return {
    streamId: payload.readUInt32BE(0) & 0x7fffffff,
    associatedStreamId: payload.readUInt32BE(4) & 0x7fffffff,
    priority: payload[8]! >> 5,
    compressedHeaders: payload.subarray(10),
  };
}

/** The stream id and the 32-bit value after it (RST_STREAM status, WINDOW_UPDATE delta, GOAWAY status). */
export function readIdAndValue(payload: Buffer, what: string): { id: number; value: number } {
  if (payload.length < 8) throw new SpdyProtocolError(`${what} shorter than 8 bytes`);
  return { id: payload.readUInt32BE(0) & 0x7fffffff, value: payload.readUInt32BE(4) };
}

export function readSettings(payload: Buffer): Map<number, number> {
  if (payload.length < 4) throw new SpdyProtocolError('SETTINGS shorter than 4 bytes');
  const n = payload.readUInt32BE(0);
  if (payload.length < 4 + n * 8) throw new SpdyProtocolError(`SETTINGS with ${n} entries in ${payload.length} bytes`);
  const out = new Map<number, number>();
  for (let i = 0; i < n; i++) out.set(payload.readUInt32BE(4 + i * 8) & 0xffffff, payload.readUInt32BE(8 + i * 8));
  return out;
}

export type HeaderBlock = Map<string, string[]>;

/** An uncompressed header block: names lower-cased, several values of one name joined by NUL. */
export function encodeHeaderBlock(headers: HeaderBlock): Buffer {
  const parts: Buffer[] = [u32(headers.size)];
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(values.join('\0'), 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): HeaderBlock {
  const fail = (): never => {
    throw new SpdyProtocolError('malformed header block');
  };
  if (block.length < 4) fail();
  const count = block.readUInt32BE(0);
  const out: HeaderBlock = new Map();
  let at = 4;
  const take = (): string => {
    if (at + 4 > block.length) fail();
    const len = block.readUInt32BE(at);
    if (at + 4 + len > block.length) fail();
    const s = block.toString('utf8', at + 4, at + 4 + len);
    at += 4 + len;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const name = take().toLowerCase();
    const value = take();
    out.set(name, [...(out.get(name) ?? []), ...value.split('\0')]);
  }
  return out;
}

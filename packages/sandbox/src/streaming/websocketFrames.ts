// RFC 6455 frames as a server sees them: every client frame is masked (§5.1, an unmasked one
// fails the connection), control frames are at most 125 bytes and never fragmented (§5.5),
// data may arrive fragmented across continuation frames. Servers send unmasked frames.

export const Opcode = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** Close codes of RFC 6455 §7.4.1 used here. */
export const CloseCode = { Normal: 1000, ProtocolError: 1002, TooBig: 1009, InternalError: 1011 } as const;

/** A frame that breaks RFC 6455: the connection is closed with `closeCode`. */
export class WebSocketProtocolError extends Error {
  override readonly name = 'WebSocketProtocolError';
  readonly code = 'WEBSOCKET_PROTOCOL_ERROR';
  constructor(
    message: string,
    readonly closeCode: number = CloseCode.ProtocolError,
  ) {
    super(message);
  }
}

export interface WsFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export class WsFrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload: number) {}

  push(chunk: Buffer): WsFrame[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: WsFrame[] = [];
    for (;;) {
      const f = this.next();
      if (!f) return frames;
      frames.push(f);
    }
  }

  private next(): WsFrame | undefined {
    const b = this.buffered;
    if (b.length < 2) return undefined;
    const fin = (b[0]! & 0x80) !== 0;
    if (b[0]! & 0x70) throw new WebSocketProtocolError('reserved bits set without a negotiated extension');
    const opcode = b[0]! & 0x0f;
    const masked = (b[1]! & 0x80) !== 0;
    if (!masked) throw new WebSocketProtocolError('client frames must be masked');
    let len = b[1]! & 0x7f;
    let at = 2;
    if (len === 126) {
      if (b.length < 4) return undefined;
      len = b.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (b.length < 10) return undefined;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(this.maxPayload)) throw new WebSocketProtocolError('frame too large', CloseCode.TooBig);
      len = Number(big);
      at = 10;
    }
    const control = opcode >= 8;
    if (control && (len > 125 || !fin))
      throw new WebSocketProtocolError('control frames must be short and unfragmented');
    if (![0, 1, 2, 8, 9, 10].includes(opcode)) throw new WebSocketProtocolError(`unknown opcode ${opcode}`);
    if (len > this.maxPayload) throw new WebSocketProtocolError('frame too large', CloseCode.TooBig);
    if (b.length < at + 4 + len) return undefined;
    const mask = b.subarray(at, at + 4);
    const payload = Buffer.from(b.subarray(at + 4, at + 4 + len));
    for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
    this.buffered = b.subarray(at + 4 + len);
    return { fin, opcode, payload };
  }
}

export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = Buffer.alloc(len < 126 ? 2 : len < 65_536 ? 4 : 10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = len;
  else if (len < 65_536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

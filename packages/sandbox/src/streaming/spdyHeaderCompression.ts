// SPDY/3 header blocks are compressed with one zlib stream per direction for the whole
// connection (primed with the SPDY/3 dictionary, each block ended by a sync flush), so blocks
// must be compressed and decompressed strictly in the order they travel: each context here
// runs one operation at a time.
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdyDictionary.js';
import { SpdyProtocolError } from './spdyFrames.js';

/** A header block that inflates to more than this is refused (a zlib bomb is bounded). */
const MAX_HEADER_BLOCK = 256 * 1024;

function flushThrough(z: Deflate | Inflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let size = 0;
    const onData = (d: Buffer): void => {
      out.push(d);
      size += d.length;
      if (size > MAX_HEADER_BLOCK) done(new SpdyProtocolError(`header block over ${MAX_HEADER_BLOCK} bytes`));
    };
    const onError = (err: Error): void => done(new SpdyProtocolError(`bad header block: ${err.message}`));
    let settled = false;
    const done = (err?: Error): void => {
      if (settled) return;
      settled = true;
      z.off('data', onData);
      z.off('error', onError);
      if (err) reject(err);
      else resolve(Buffer.concat(out));
    };
    z.on('data', onData);
    z.once('error', onError);
    if (input.length) z.write(input);
    z.flush(constants.Z_SYNC_FLUSH, () => done());
  });
}

/** One direction's zlib context; operations queue behind each other. */
class SerialZlib {
  private tail: Promise<unknown> = Promise.resolve();
  constructor(private readonly z: Deflate | Inflate) {
    // A broken inflate is reported through the pending operation; this keeps it from being unhandled.
    z.on('error', () => undefined);
  }

  run(input: Buffer): Promise<Buffer> {
    const next = this.tail.then(() => flushThrough(this.z, input));
    this.tail = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.z.destroy();
  }
}

export class HeaderCompression {
  private readonly deflate = new SerialZlib(createDeflate({ dictionary: SPDY3_DICTIONARY }));
  private readonly inflate = new SerialZlib(createInflate({ dictionary: SPDY3_DICTIONARY }));

  compress(block: Buffer): Promise<Buffer> {
    return this.deflate.run(block);
  }

  decompress(block: Buffer): Promise<Buffer> {
    return this.inflate.run(block);
  }

  close(): void {
    this.deflate.close();
    this.inflate.close();
  }
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeHeaderBlock, encodeHeaderBlock, FrameReader, SpdyProtocolError } from './spdyFrames.js';
import { HeaderCompression } from './spdyHeaderCompression.js';
import { objectEnd } from './terminalSize.js';
import { WebSocketProtocolError, WsFrameReader } from './websocketFrames.js';

const masked = (first: number, payload: Buffer): Buffer => {
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!));
  return Buffer.concat([Buffer.from([first, 0x80 | payload.length]), mask, body]);
};

describe('SPDY frames', () => {
  it('round-trips a header block through one zlib context per direction, block after block', async () => {
    const client = new HeaderCompression();
    const server = new HeaderCompression();
    for (const type of ['error', 'stdout', 'stderr']) {
      const block = encodeHeaderBlock(
        new Map([
          ['streamType', [type]],
          ['port', ['80']],
        ]),
      );
      const back = decodeHeaderBlock(await server.decompress(await client.compress(block)));
      assert.deepEqual(
        back,
        new Map([
          ['streamtype', [type]],
          ['port', ['80']],
        ]),
      );
    }
  });

  it('reads frames split anywhere and refuses another SPDY version or a malformed block', () => {
    const r = new FrameReader();
    const frame = Buffer.from('80030006000000040000000b', 'hex');
    assert.deepEqual(r.push(frame.subarray(0, 5)), []);
    assert.equal(r.push(frame.subarray(5)).length, 1);
    assert.throws(() => new FrameReader().push(Buffer.from('8002000600000004', 'hex')), SpdyProtocolError);
    assert.throws(() => decodeHeaderBlock(Buffer.from('00000001000000ff', 'hex')), SpdyProtocolError);
  });
});

describe('WebSocket frames', () => {
  it('unmasks and yields fragments, and refuses unmasked or oversized control frames', () => {
    const r = new WsFrameReader(1024);
    const frames = r.push(Buffer.concat([masked(0x02, Buffer.from('ab')), masked(0x80, Buffer.from('c'))]));
    assert.deepEqual(
      frames.map((f) => [f.fin, f.opcode, f.payload.toString()]),
      [
        [false, 2, 'ab'],
        [true, 0, 'c'],
      ],
    );
    assert.throws(() => new WsFrameReader(1024).push(Buffer.from([0x82, 0x01, 0x41])), WebSocketProtocolError);
    assert.throws(() => new WsFrameReader(1024).push(Buffer.from([0x89, 0xfe, 0, 200])), WebSocketProtocolError);
  });
});

describe('resize stream', () => {
  it('finds whole JSON objects however they are split', () => {
    assert.equal(objectEnd('{"Width":80,"Height":24}{"Wid'), 24);
    assert.equal(objectEnd('{"Width":80,'), undefined);
  });
});

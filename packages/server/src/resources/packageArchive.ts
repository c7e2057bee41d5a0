import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { Parser } from 'tar';
import { LongshoreError } from '@longshore/protocol';
import { readZip, scanTarGz } from '@longshore/protocol/archive';

export type ArchiveFormat = 'tar.gz' | 'zip';

/**
 * Streams an upload to disk while hashing and counting it, so a large package never sits in
 * memory and an oversized one is cut off at the limit.
 */
export async function receiveUpload(
  body: Readable,
  path: string,
  maxBytes: number,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) {
        done(new LongshoreError('PAYLOAD_TOO_LARGE', `The package is larger than the ${maxBytes}-byte limit`));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, meter, createWriteStream(path, { mode: 0o600 }));
  } catch (e) {
    await rm(path, { force: true });
    throw e;
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * Detects the format by its magic bytes and reads the whole archive as a stream, so a corrupt one,
 * a compression bomb or one with entries a worker must not extract (see checkEntry) is refused now,
 * with the entry and the rule it breaks.
 */
export async function verifyArchive(path: string): Promise<{ format: ArchiveFormat; entries: number }> {
  const fh = await open(path, 'r');
  const magic = Buffer.alloc(4);
  try {
    await fh.read(magic, 0, 4, 0);
  } finally {
    await fh.close();
  }
  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    const entries = await scanTarGz(path, new Parser({ strict: true }));
    if (entries === 0) throw new LongshoreError('INVALID_PACKAGE', 'The .tar.gz archive is empty or not a tar archive');
    return { format: 'tar.gz', entries };
  }
  if (magic.readUInt32LE(0) === 0x04034b50 || magic.readUInt32LE(0) === 0x06054b50) {
    const { entries } = await readZip(path);
    if (entries === 0) throw new LongshoreError('INVALID_PACKAGE', 'The .zip archive is empty');
    return { format: 'zip', entries };
  }
  throw new LongshoreError('INVALID_PACKAGE', 'The package is neither a .tar.gz nor a .zip archive');
}

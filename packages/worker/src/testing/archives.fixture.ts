import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDeflateRaw, crc32, gzipSync } from 'node:zlib';
import { Header, c as createTar } from 'tar';
import { tempDir } from './tempDirs.fixture.js';

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** A .tar.gz of these files, as a package upload would be. */
export async function tarGz(files: Record<string, { content: string; mode?: number }>): Promise<Uint8Array> {
  const source = tempDir('tar');
  for (const [name, { content, mode }] of Object.entries(files)) {
    await mkdir(join(source, name, '..'), { recursive: true });
    await writeFile(join(source, name), content, { mode: mode ?? 0o644 });
  }
  const archive = join(source, '..', `${source.split('/').pop()}.tar.gz`);
  await createTar({ gzip: true, cwd: source, file: archive, portable: true }, Object.keys(files));
  return readFile(archive);
}

export interface RawTarEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO';
  linkpath?: string;
  content?: string;
}

/** A .tar.gz written header by header, so it can hold what no well-behaved tool would write. */
export function rawTarGz(entries: RawTarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { path, type = 'File', linkpath, content = '' } of entries) {
    const data = Buffer.from(type === 'File' ? content : '');
    const header = new Header({
      path,
      type,
      size: data.length,
      mode: type === 'Directory' ? 0o755 : 0o644,
      mtime: new Date(0),
      ...(linkpath ? { linkpath } : {}),
    });
    header.encode();
    blocks.push(header.block!, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/**
 * A zip of one entry holding `size` zero bytes (a compression bomb: a GiB deflates to about a
 * MiB), deflated as it is built so that the test itself never holds the expanded bytes. Its
 * directory declares `declared` bytes.
 */
export async function zerosZip(name: string, size: number, declared = size): Promise<Buffer> {
  const zeros = Buffer.alloc(1024 * 1024);
  const deflate = createDeflateRaw({ level: 9 });
  const compressed: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => compressed.push(chunk));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  let crc = 0;
  for (let left = size; left > 0; left -= zeros.length) {
    const chunk = zeros.subarray(0, Math.min(left, zeros.length));
    crc = crc32(chunk, crc);
    if (!deflate.write(chunk)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await ended;
  const data = Buffer.concat(compressed);
  const file = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(declared, 22);
  local.writeUInt16LE(file.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(declared, 24);
  central.writeUInt16LE(file.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + file.length, 12);
  end.writeUInt32LE(local.length + file.length + data.length, 16);
  return Buffer.concat([local, file, data, central, file, end]);
}

import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import { LongshoreError } from '../errors.js';
import {
  checkEntry,
  DEFAULT_ARCHIVE_LIMITS,
  EntryTree,
  ExpansionBudget,
  type ArchiveLimits,
  type EntryKind,
} from './packageEntries.js';

export interface ZipEntry {
  name: string;
  /** Checked path relative to the package root (see checkEntry). */
  path: string;
  kind: 'file' | 'directory';
  executable: boolean;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localHeaderOffset: number;
}

export interface ZipVisitor {
  directory?(entry: ZipEntry): Promise<void>;
  /** Where a file's bytes go; without it they are inflated, checked and dropped. */
  file?(entry: ZipEntry): Promise<Writable>;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** A directory this large would list millions of entries; reading it is the one buffer we hold. */
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;
const S_IFMT = 0o170000;

const corrupt = (why: string) => new LongshoreError('INVALID_PACKAGE', `The .zip archive is corrupt: ${why}`);

/**
 * Reads a zip from its central directory, as unzip tools do (the local headers cannot say whether
 * an entry is a symbolic link), checks every entry before inflating any, then streams each file
 * through node:zlib with back-pressure: memory stays at a few buffers whatever an entry claims.
 * Sizes and CRCs are checked against the directory, and the total against the expansion limits.
 */
export async function readZip(
  path: string,
  visitor: ZipVisitor = {},
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<{ entries: number }> {
  const fh = await open(path, 'r');
  let entries: ZipEntry[];
  let archiveBytes: number;
  try {
    archiveBytes = (await fh.stat()).size;
    entries = await readDirectory(fh, archiveBytes, limits.maxEntries);
  } finally {
    await fh.close();
  }
  const declared = new ExpansionBudget(archiveBytes, limits);
  const tree = new EntryTree();
  for (const entry of entries) {
    declared.entry(entry.name);
    declared.add(entry.size, entry.name);
    tree.add(entry.path, entry.kind, entry.name);
  }
  const inflated = new ExpansionBudget(archiveBytes, limits);
  for (const entry of entries) {
    if (entry.kind === 'directory') await visitor.directory?.(entry);
    else
      await pipeline([
        ...entryContent(path, entry),
        checked(entry, inflated),
        (await visitor.file?.(entry)) ?? discard(),
      ]);
  }
  return { entries: entries.length };
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buffer, 0, length, position);
  if (bytesRead < length) throw corrupt(`it ends inside a header at byte ${position}`);
  return buffer;
}

async function readDirectory(fh: FileHandle, size: number, maxEntries: number): Promise<ZipEntry[]> {
  const tailLength = Math.min(size, 22 + 0xffff + 20);
  const tail = await readAt(fh, size - tailLength, tailLength);
  let at = tail.length - 22;
  while (at >= 0 && tail.readUInt32LE(at) !== EOCD) at--;
  if (at < 0) throw corrupt('it has no end-of-directory record (truncated, or not a zip)');
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) throw corrupt('it spans several disks');
  let count = tail.readUInt16LE(at + 10);
  let directoryBytes = tail.readUInt32LE(at + 12);
  let directoryOffset = tail.readUInt32LE(at + 16);
  if (
    (count === 0xffff || directoryBytes === 0xffffffff || directoryOffset === 0xffffffff) &&
    at >= 20 &&
    tail.readUInt32LE(at - 20) === ZIP64_LOCATOR
  ) {
    const record = await readAt(fh, safe(tail.readBigUInt64LE(at - 12)), 56);
    if (record.readUInt32LE(0) !== ZIP64_EOCD) throw corrupt('its zip64 end-of-directory record is missing');
    count = safe(record.readBigUInt64LE(32));
    directoryBytes = safe(record.readBigUInt64LE(40));
    directoryOffset = safe(record.readBigUInt64LE(48));
  }
  // Before any entry is read: a zip64 directory can list a million records that all point at one
  // local header, and reading them first would cost a syscall and an object each.
  if (count > maxEntries)
    throw new LongshoreError(
      'INVALID_PACKAGE',
      `The archive has ${count} entries, more than the limit of ${maxEntries}`,
    );
  if (directoryOffset + directoryBytes > size) throw corrupt('its directory lies past the end of the file');
  if (directoryBytes > MAX_DIRECTORY_BYTES) {
    throw new LongshoreError(
      'INVALID_PACKAGE',
      `The .zip archive's directory is larger than ${MAX_DIRECTORY_BYTES} bytes (the limit)`,
    );
  }
  const directory = await readAt(fh, directoryOffset, directoryBytes);
  const entries: ZipEntry[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 46 > directory.length || directory.readUInt32LE(pos) !== CENTRAL)
      throw corrupt(`directory entry ${i + 1} of ${count} is damaged`);
    const nameLength = directory.readUInt16LE(pos + 28);
    const extraLength = directory.readUInt16LE(pos + 30);
    const end = pos + 46 + nameLength + extraLength + directory.readUInt16LE(pos + 32);
    if (end > directory.length) throw corrupt(`directory entry ${i + 1} of ${count} is damaged`);
    const utf8 = (directory.readUInt16LE(pos + 8) & 0x800) !== 0;
    const name = directory.toString(utf8 ? 'utf8' : 'latin1', pos + 46, pos + 46 + nameLength);
    entries.push(
      await centralEntry(
        fh,
        directory,
        pos,
        name,
        directory.subarray(pos + 46 + nameLength, pos + 46 + nameLength + extraLength),
        directoryOffset,
      ),
    );
    pos = end;
  }
  return entries;
}

async function centralEntry(
  fh: FileHandle,
  d: Buffer,
  pos: number,
  name: string,
  extra: Buffer,
  directoryOffset: number,
): Promise<ZipEntry> {
  const flags = d.readUInt16LE(pos + 8);
  const method = d.readUInt16LE(pos + 10);
  const madeOnUnix = d.readUInt8(pos + 5) === 3;
  const mode = madeOnUnix ? d.readUInt32LE(pos + 38) >>> 16 : 0;
  let size = d.readUInt32LE(pos + 24);
  let compressedSize = d.readUInt32LE(pos + 20);
  let localHeaderOffset = d.readUInt32LE(pos + 42);
  const zip64 = findExtra(extra, 0x0001);
  if (zip64) {
    let at = 0;
    const next = () => {
      if (at + 8 > zip64.length) throw corrupt(`the zip64 sizes of '${name}' are damaged`);
      const value = safe(zip64.readBigUInt64LE(at));
      at += 8;
      return value;
    };
    if (size === 0xffffffff) size = next();
    if (compressedSize === 0xffffffff) compressedSize = next();
    if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
  }
  const kind = entryKind(name, mode, d.readUInt32LE(pos + 38));
  const path = checkEntry({ name, kind: kind.kind, ...(kind.typeName ? { typeName: kind.typeName } : {}) });
  if (flags & 0x1)
    throw new LongshoreError(
      'INVALID_PACKAGE',
      `The archive's entry '${name}' is encrypted; push packages unencrypted`,
      { entry: name },
    );
  if (kind.kind === 'file' && method !== 0 && method !== 8) {
    throw new LongshoreError(
      'INVALID_PACKAGE',
      `The archive's entry '${name}' is compressed with zip method ${method}; packages use stored (0) or deflate (8)`,
      { entry: name },
    );
  }
  const local = await readAt(fh, localHeaderOffset, 30);
  if (local.readUInt32LE(0) !== LOCAL) throw corrupt(`the local header of '${name}' is missing`);
  const dataStart = localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (dataStart + compressedSize > directoryOffset) throw corrupt(`the data of '${name}' runs into the directory`);
  return {
    name,
    path,
    kind: kind.kind as 'file' | 'directory',
    executable: (mode & 0o111) !== 0,
    method,
    compressedSize,
    size,
    crc: d.readUInt32LE(pos + 16),
    localHeaderOffset: dataStart,
  };
}

function entryKind(name: string, mode: number, attributes: number): { kind: EntryKind; typeName?: string } {
  const type = mode & S_IFMT;
  if (type === 0o120000) return { kind: 'symlink' };
  if (type === 0o040000 || name.endsWith('/') || name.endsWith('\\') || (attributes & 0x10) !== 0)
    return { kind: 'directory' };
  if (type === 0 || type === 0o100000) return { kind: 'file' };
  const names: Record<number, string> = {
    0o010000: 'FIFO',
    0o020000: 'character device',
    0o060000: 'block device',
    0o140000: 'socket',
  };
  return { kind: 'other', typeName: names[type] ?? `file of type ${type.toString(8)}` };
}

function findExtra(extra: Buffer, id: number): Buffer | undefined {
  for (let at = 0; at + 4 <= extra.length;) {
    const length = extra.readUInt16LE(at + 2);
    if (extra.readUInt16LE(at) === id) return extra.subarray(at + 4, at + 4 + length);
    at += 4 + length;
  }
  return undefined;
}

function safe(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt('a zip64 size or offset is out of range');
  return Number(value);
}

function entryContent(path: string, entry: ZipEntry): (Readable | Transform)[] {
  const raw =
    entry.compressedSize === 0
      ? Readable.from([])
      : createReadStream(path, {
          start: entry.localHeaderOffset,
          end: entry.localHeaderOffset + entry.compressedSize - 1,
        });
  return entry.method === 0 ? [raw] : [raw, createInflateRaw()];
}

/** Counts against the archive's budget and the entry's declared size, and checks its CRC at the end. */
function checked(entry: ZipEntry, budget: ExpansionBudget): Transform {
  let bytes = 0;
  let crc = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      try {
        if (bytes > entry.size)
          throw corrupt(`entry '${entry.name}' expands past the ${entry.size} bytes its directory declares`);
        budget.add(chunk.length, entry.name);
      } catch (error) {
        done(error as Error);
        return;
      }
      crc = crc32(chunk, crc);
      done(null, chunk);
    },
    flush(done) {
      if (bytes !== entry.size)
        done(corrupt(`entry '${entry.name}' holds ${bytes} bytes, its directory declares ${entry.size}`));
      else if (crc >>> 0 !== entry.crc) done(corrupt(`entry '${entry.name}' does not match its CRC-32`));
      else done();
    },
  });
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

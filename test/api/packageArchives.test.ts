import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createDeflateRaw, createGzip, crc32, gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { strToU8, zipSync } from 'fflate';
import { startHarness, type Harness } from '../support/serverHarness.js';

// Hostile archives pushed to the feed: each is refused with the entry and the rule it breaks,
// nothing is kept, and a compression bomb costs the server no more than a few buffers of memory.

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const push = (id: string, version: string, body: Uint8Array) =>
  fetch(`${h.url}/api/packages/${id}/${version}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/octet-stream' },
    body,
  });

/** Pushes with the server in this process and answers how far its RSS rose meanwhile (sampled). */
async function pushMeasured(id: string, body: Uint8Array): Promise<{ status: number; text: string; grewMiB: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    const res = await push(id, '1.0.0', body);
    const text = await res.text();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { status: res.status, text, grewMiB: (peak - start) / MiB };
  } finally {
    clearInterval(sampler);
  }
}

/** `size` zero bytes through a compressor, fed a MiB at a time so the test never holds them. */
async function compressZeros(
  stream: NodeJS.ReadWriteStream,
  size: number,
  header?: Buffer,
): Promise<{ data: Buffer; crc: number }> {
  const zeros = Buffer.alloc(MiB);
  const out: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => stream.on('end', resolve));
  const write = async (chunk: Buffer) => {
    if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve));
  };
  if (header) await write(header);
  let crc = 0;
  for (let left = size; left > 0; left -= MiB) {
    const chunk = zeros.subarray(0, Math.min(left, MiB));
    crc = crc32(chunk, crc);
    await write(chunk);
  }
  stream.end();
  await ended;
  return { data: Buffer.concat(out), crc };
}

let deflatedGiB: Promise<{ data: Buffer; crc: number }> | undefined;

/** A one-entry zip of a GiB of zeros whose directory declares `declared` bytes. */
async function zerosZip(declared = GiB): Promise<Buffer> {
  deflatedGiB ??= compressZeros(createDeflateRaw({ level: 9 }), GiB);
  const { data, crc } = await deflatedGiB;
  const name = Buffer.from('big.bin');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(declared, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(declared, 24);
  central.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(local.length + name.length + data.length, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

type TarType = 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO';

function tarHeader(path: string, type: TarType, size = 0, linkpath?: string): Buffer {
  const header = new Header({
    path,
    type,
    size,
    mode: type === 'Directory' ? 0o755 : 0o644,
    mtime: new Date(0),
    ...(linkpath ? { linkpath } : {}),
  });
  header.encode();
  return header.block!;
}

/** A .tar.gz written header by header, so it can hold what no well-behaved tool writes. */
function rawTarGz(entries: [path: string, type: TarType, linkpath?: string][]): Buffer {
  const blocks = entries.flatMap(([path, type, linkpath]) =>
    type === 'File'
      ? [tarHeader(path, type, 2), Buffer.from('x\n'), Buffer.alloc(510)]
      : [tarHeader(path, type, 0, linkpath)],
  );
  return gzipSync(Buffer.concat([...blocks, Buffer.alloc(1024)]));
}

const unix = (mode: number) => ({ os: 3, attrs: (mode << 16) >>> 0 });

/** No package file was kept: nothing in the store but the (empty) upload area. */
function storedFiles(): string[] {
  const dir = join(h.dataDir, 'packages');
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

test('a 1 MiB zip holding a 1 GiB entry is refused by its limit, in bounded memory', async () => {
  const bomb = await zerosZip();
  assert.ok(bomb.length < 1.1 * MiB, `${bomb.length} bytes`);
  const res = await pushMeasured('bomb', bomb);
  assert.equal(res.status, 422, res.text);
  assert.match(
    res.text,
    /expands to more than the \d+-byte limit for an archive of \d+ bytes \(200 times its size, at least \d+ bytes\); entry 'big\.bin' goes past it/,
  );
  assert.ok(res.grewMiB < 100, `the server grew by ${res.grewMiB.toFixed(0)} MiB`);
});

test('a zip whose directory understates its entry is stopped while inflating, in bounded memory', async () => {
  const res = await pushMeasured('liar', await zerosZip(1000));
  assert.equal(res.status, 422, res.text);
  assert.match(res.text, /entry 'big\.bin' expands past the 1000 bytes its directory declares/);
  assert.ok(res.grewMiB < 100, `the server grew by ${res.grewMiB.toFixed(0)} MiB`);
});

test('a .tar.gz bomb is refused by the same limit', async () => {
  const { data } = await compressZeros(createGzip({ level: 9 }), GiB, tarHeader('big.bin', 'File', GiB));
  const res = await pushMeasured('tarbomb', data);
  assert.equal(res.status, 422, res.text);
  assert.match(
    res.text,
    /expands to more than the \d+-byte limit for an archive of \d+ bytes \(200 times its size, at least \d+ bytes\); entry 'big\.bin' goes past it/,
  );
  assert.ok(res.grewMiB < 100, `the server grew by ${res.grewMiB.toFixed(0)} MiB`);
});

test('archives with entries that would land outside the package, or links, are refused naming the entry', async () => {
  const cases: [string, Uint8Array, RegExp][] = [
    [
      'tar-up',
      rawTarGz([
        ['ok.txt', 'File'],
        ['../escape.txt', 'File'],
      ]),
      /entry '\.\.\/escape\.txt' climbs out of the package with '\.\.'/,
    ],
    ['tar-abs', rawTarGz([['/etc/cron.d/x', 'File']]), /entry '\/etc\/cron\.d\/x' has an absolute path/],
    [
      'tar-sym',
      rawTarGz([
        ['etc', 'SymbolicLink', '/etc'],
        ['etc/passwd', 'File'],
      ]),
      /entry 'etc' is a symbolic link \(to '\/etc'\); packages may hold only files and directories/,
    ],
    [
      'tar-hard',
      rawTarGz([['passwd', 'Link', '/etc/passwd']]),
      /entry 'passwd' is a hard link to '\/etc\/passwd', which is an absolute path; a link must point at a file of the package/,
    ],
    ['tar-fifo', rawTarGz([['pipe', 'FIFO']]), /entry 'pipe' is a FIFO/],
    [
      'tar-all',
      rawTarGz([
        ['a/../../x', 'File'],
        ['/abs', 'File'],
        ['l', 'SymbolicLink', '..'],
        ['h', 'Link', 'a'],
      ]),
      /entry 'a\/\.\.\/\.\.\/x' climbs out/,
    ],
    [
      'tar-twice',
      rawTarGz([
        ['a', 'File'],
        ['a/b', 'File'],
      ]),
      /entry 'a\/b' is inside 'a', which the archive has as a file/,
    ],
    [
      'tar-dangling',
      rawTarGz([['h', 'Link', 'missing']]),
      /entry 'h' is a hard link to 'missing', which is not a file earlier in the archive/,
    ],
    [
      'zip-slip',
      zipSync({ 'ok.txt': strToU8('ok'), '../../evil.sh': strToU8('x') }),
      /entry '\.\.\/\.\.\/evil\.sh' climbs out of the package/,
    ],
    ['zip-backslash', zipSync({ '..\\evil.bat': strToU8('x') }), /entry '\.\.\\\\evil\.bat' climbs out of the package/],
    ['zip-abs', zipSync({ '/tmp/evil': strToU8('x') }), /entry '\/tmp\/evil' has an absolute path/],
    [
      'zip-sym',
      zipSync({ link: [strToU8('/etc/passwd'), unix(0o120777)] }),
      /entry 'link' is a symbolic link; packages may hold only files and directories/,
    ],
  ];
  for (const [id, body, message] of cases) {
    const res = await push(id, '1.0.0', body);
    const text = await res.text();
    assert.equal(res.status, 422, `${id}: ${text}`);
    assert.equal(JSON.parse(text).code, 'INVALID_PACKAGE');
    assert.match(text, message, id);
  }
  assert.deepEqual((await h.api('GET', '/api/packages')).body.items, []);
  assert.deepEqual(storedFiles(), []);
});

test('what packages do hold stays accepted: executables, directories, hard links to their own files', async () => {
  const zip = await push(
    'fine',
    '1.0.0',
    zipSync({ 'bin/': {}, 'bin/run.sh': [strToU8('#!/bin/sh\n'), unix(0o100755)], README: strToU8('hi') }),
  );
  assert.equal(zip.status, 201, await zip.text());
  const tar = await push(
    'fine',
    '1.0.1',
    rawTarGz([
      ['lib', 'Directory'],
      ['lib/a.so', 'File'],
      ['lib/a.so.1', 'Link', 'lib/a.so'],
    ]),
  );
  assert.equal(tar.status, 201, await tar.text());
});

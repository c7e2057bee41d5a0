import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { c as createTar } from 'tar';
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

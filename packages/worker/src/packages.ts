import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LongshoreError, type OperationPackage } from '@longshore/protocol';
import { unzipSync } from 'fflate';
import { x as extractTar } from 'tar';
import type { AgentChannel } from './serverClient.js';

/** A reference becomes a directory name: nothing that could climb out of `packages/`. */
const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Downloads a package into `<workDir>/packages/<reference>/`, verifying its sha256 before a byte
 * of it is extracted. Docker images are not packages to install (see dockerRejection).
 */
export async function installPackage(
  pkg: OperationPackage,
  workDir: string,
  channel: Pick<AgentChannel, 'downloadPackage'>,
  signal: AbortSignal,
): Promise<void> {
  if (!REFERENCE.test(pkg.reference)) {
    throw new LongshoreError('INVALID_PACKAGE', `Package reference '${pkg.reference}' cannot be a directory name (use letters, digits, . _ -)`);
  }
  if (pkg.format === 'docker-image') {
    throw new LongshoreError('INVALID_PACKAGE', `Package '${pkg.reference}' is a Docker image, not an archive`);
  }
  const target = join(workDir, 'packages', pkg.reference);
  const archive = join(workDir, 'packages', `.${pkg.reference}.download`);
  await mkdir(target, { recursive: true });
  try {
    const hash = createHash('sha256');
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(await channel.downloadPackage(pkg.downloadPath, signal), hashing, createWriteStream(archive), { signal });
    const actual = hash.digest('hex');
    if (actual !== pkg.sha256.toLowerCase()) {
      throw new LongshoreError(
        'INVALID_PACKAGE',
        `Package '${pkg.reference}' (${pkg.packageId} ${pkg.version}) does not match its sha256: expected ${pkg.sha256}, downloaded ${actual}`,
      );
    }
    if (pkg.format === 'tar.gz') {
      // Not preserving owners: as root, tar would hand files to whatever uids the archive names.
      await extractTar({ file: archive, cwd: target, strict: true, preserveOwner: false });
    } else {
      await extractZip(await readFile(archive), target, pkg.reference);
    }
  } finally {
    await rm(archive, { force: true });
  }
}

/** fflate keeps no file modes, so zip entries are written with default permissions. */
async function extractZip(data: Uint8Array, target: string, reference: string): Promise<void> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(data);
  } catch (error) {
    throw new LongshoreError('INVALID_PACKAGE', `Package '${reference}' is not a valid zip archive: ${(error as Error).message}`);
  }
  for (const [name, content] of Object.entries(entries)) {
    // Some Windows tools write backslashes; an entry must not land outside the target (zip slip).
    const normalized = name.replaceAll('\\', '/');
    const path = join(target, normalized);
    const inside = relative(target, path);
    if (isAbsolute(normalized) || inside.startsWith('..') || isAbsolute(inside)) {
      throw new LongshoreError('INVALID_PACKAGE', `Package '${reference}' has an entry outside its directory: ${name}`);
    }
    if (normalized.endsWith('/')) {
      await mkdir(path, { recursive: true });
    } else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
  }
}

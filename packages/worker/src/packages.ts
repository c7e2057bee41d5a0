import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LongshoreError, isErrorCode, type OperationPackage } from '@longshore/protocol';
import { readZip, scanTarGz } from '@longshore/protocol/archive';
import { Parser, x as extractTar } from 'tar';
import type { AgentChannel } from './serverClient.js';

/** A reference becomes a directory name: nothing that could climb out of `packages/`. */
const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Downloads a package into `<workDir>/packages/<reference>/`, verifying its sha256 and then every
 * entry before a byte of it is extracted; a package that cannot be installed leaves nothing
 * behind. Docker images are not packages to install (see dockerRejection).
 */
export async function installPackage(
  pkg: OperationPackage,
  workDir: string,
  channel: Pick<AgentChannel, 'downloadPackage'>,
  signal: AbortSignal,
): Promise<void> {
  if (!REFERENCE.test(pkg.reference)) {
    throw new LongshoreError(
      'INVALID_PACKAGE',
      `Package reference '${pkg.reference}' cannot be a directory name (use letters, digits, . _ -)`,
    );
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
    await pipeline(await channel.downloadPackage(pkg.downloadPath, signal), hashing, createWriteStream(archive), {
      signal,
    });
    const actual = hash.digest('hex');
    if (actual !== pkg.sha256.toLowerCase()) {
      throw new LongshoreError(
        'INVALID_PACKAGE',
        `Package '${pkg.reference}' (${pkg.packageId} ${pkg.version}) does not match its sha256: expected ${pkg.sha256}, downloaded ${actual}`,
      );
    }
    try {
      if (pkg.format === 'tar.gz') await extractTarGz(archive, target);
      else await extractZip(archive, target);
    } catch (error) {
      if (!isErrorCode(error, 'INVALID_PACKAGE')) throw error;
      const { message, details } = error as LongshoreError;
      throw new LongshoreError(
        'INVALID_PACKAGE',
        `Package '${pkg.reference}' (${pkg.packageId} ${pkg.version}) cannot be installed: ${message}`,
        details,
      );
    }
  } catch (error) {
    // Nothing of a package that could not be installed stays behind for the script to find.
    await rm(target, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(archive, { force: true });
  }
}

/**
 * Reads the whole archive first with the rules the server applied on push (checkEntry, the
 * expansion limits), so that an archive that breaks them is refused before a byte is written:
 * a hostile one then never leaves a half-extracted tree behind.
 */
async function extractTarGz(archive: string, target: string): Promise<void> {
  await scanTarGz(archive, new Parser({ strict: true }));
  // Not preserving owners: as root, tar would hand files to whatever uids the archive names.
  await extractTar({ file: archive, cwd: target, strict: true, preserveOwner: false });
}

/** readZip checks every entry before it inflates any, and streams each file to disk with limits. */
async function extractZip(archive: string, target: string): Promise<void> {
  await readZip(archive, {
    directory: async (entry) => {
      await mkdir(join(target, entry.path), { recursive: true });
    },
    file: async (entry) => {
      const path = join(target, entry.path);
      await mkdir(dirname(path), { recursive: true });
      // 'wx' never opens what is already there, so no write can go through an existing link.
      return createWriteStream(path, { flags: 'wx', mode: entry.executable ? 0o755 : 0o644 });
    },
  });
}

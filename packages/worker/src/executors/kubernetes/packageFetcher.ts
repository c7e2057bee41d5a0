import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LongshoreError, OperationPackage, isLongshoreError, timeLimit } from '@longshore/protocol';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { installPackage } from '../../packages.js';
import { retryTransient } from '../../retry.js';
import { TokenDownloader } from './tokenDownloader.js';

/**
 * What a script pod's init container is told to fetch (the manifest in the pod's Secret,
 * written by buildScriptPod): where the server is and the operation's packages as the
 * operation lists them.
 */
export const FetchManifest = Type.Object({
  serverUrl: Type.String({ pattern: '^https?://' }),
  packages: Type.Array(OperationPackage),
});
export type FetchManifest = Static<typeof FetchManifest>;

export interface FetchPackagesOptions {
  manifest: FetchManifest;
  token: string;
  caPem?: string;
  /**
   * The script's working directory: packages land in `<workDir>/packages/<reference>`, where the
   * local executor puts them too, so a script finds them in the same place on either executor.
   */
  workDir: string;
  /** One line per package installed. */
  progress: (line: string) => void;
  /** Limit for one package's download, body included. */
  downloadTimeoutMs: number;
  /** Tries per package when the server cannot answer (restarting, a network blip). */
  attempts?: number;
  retryInitialMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_ATTEMPTS = 3;
const DEFAULT_RETRY_INITIAL_MS = 1000;

export async function readFetchManifest(path: string): Promise<FetchManifest> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new LongshoreError('CONFIG_INVALID', `Cannot read the package manifest ${path}: ${(error as Error).message}`);
  }
  const problem = Value.Errors(FetchManifest, value).First();
  if (problem) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `The package manifest ${path} is not valid: ${problem.path || '/'} ${problem.message}`,
    );
  }
  return value as FetchManifest;
}

/**
 * Downloads, verifies (sha256, before anything is extracted) and extracts each package of the
 * manifest with installPackage, as the local executor does. Stops at the first package that
 * cannot be installed, with an error that names it.
 */
export async function fetchPackages(options: FetchPackagesOptions): Promise<void> {
  const { manifest, workDir } = options;
  const downloader = new TokenDownloader({
    serverUrl: manifest.serverUrl,
    token: options.token,
    ...(options.caPem ? { caPem: options.caPem } : {}),
  });
  const retries = {
    attempts: options.attempts ?? DEFAULT_ATTEMPTS,
    backoff: { initialMs: options.retryInitialMs ?? DEFAULT_RETRY_INITIAL_MS, maxMs: 30_000 },
    signal: options.signal,
  };
  for (const pkg of manifest.packages) {
    const started = Date.now();
    await retryTransient(async () => {
      const limit = timeLimit(options.downloadTimeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, limit.signal]) : limit.signal;
      try {
        await installPackage(pkg, workDir, downloader, signal);
      } catch (error) {
        if (options.signal?.aborted) throw error;
        if (limit.signal.aborted) {
          throw new LongshoreError(
            'TIMEOUT',
            `Package '${pkg.reference}' (${pkg.packageId} ${pkg.version}) did not download within ${options.downloadTimeoutMs} ms from ${manifest.serverUrl}`,
          );
        }
        if (isLongshoreError(error) && error.code === 'INVALID_PACKAGE') throw error;
        throw named(error, pkg, manifest.serverUrl);
      } finally {
        limit.clear();
      }
    }, retries);
    options.progress(
      `Installed package ${pkg.reference} (${pkg.packageId} ${pkg.version}, ${pkg.format}, sha256 verified) into ${join(workDir, 'packages', pkg.reference)} in ${Date.now() - started} ms`,
    );
  }
}

/** The server's or the network's error, with the package it was about; the code stays. */
function named(error: unknown, pkg: FetchManifest['packages'][number], serverUrl: string): Error {
  const what = `Package '${pkg.reference}' (${pkg.packageId} ${pkg.version}) could not be downloaded from ${serverUrl}`;
  if (!isLongshoreError(error)) return new LongshoreError('INTERNAL', `${what}: ${(error as Error).message}`);
  const hint =
    error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN'
      ? " (the pod's package token was refused: it is valid only while its operation runs, for that operation's packages)"
      : '';
  return new LongshoreError(error.code, `${what}: ${error.message}${hint}`, error.details);
}

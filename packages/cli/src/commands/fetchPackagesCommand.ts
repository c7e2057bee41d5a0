import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { LongshoreError } from '@longshore/protocol';

/**
 * `longshore fetch-packages`: what a script pod's init container runs (see buildScriptPod) to
 * put an operation's packages where its script expects them. Any failure exits non-zero with
 * `error [CODE]: ...` as its last line, which the pod's termination message carries to the task log.
 */
export function registerFetchPackagesCommand(program: Command): void {
  program
    .command('fetch-packages')
    .description(
      "download, verify (sha256) and extract a script pod's packages (the Kubernetes worker's init container runs this)",
    )
    .requiredOption(
      '--manifest <file>',
      'JSON: { serverUrl, packages: [{ reference, packageId, version, format, sha256, downloadPath }] }',
    )
    .requiredOption('--token-file <file>', "a file holding the operation's package token")
    .requiredOption('--into <dir>', "the script's working directory: each package goes to <dir>/packages/<reference>")
    .option('--ca-file <file>', "PEM of the CA that signed the server's certificate (a self-signed server)")
    .option('--download-timeout-ms <ms>', 'limit for one package download', (v) => Number(v), 600_000)
    .action(async (opts: FetchPackagesFlags) => {
      // Not the worker's index: it loads the Kubernetes client, which would double this init container's start time and memory.
      const { fetchPackages, readFetchManifest } = await import('@longshore/worker/package-fetcher');
      const manifest = await readFetchManifest(opts.manifest);
      const token = (await readText(opts.tokenFile, 'the package token')).trim();
      if (!token) throw new LongshoreError('CONFIG_INVALID', `The token file ${opts.tokenFile} is empty`);
      const caPem = opts.caFile === undefined ? undefined : await readText(opts.caFile, "the server's CA");
      if (!Number.isInteger(opts.downloadTimeoutMs) || opts.downloadTimeoutMs < 1000) {
        throw new LongshoreError(
          'CONFIG_INVALID',
          '--download-timeout-ms must be a whole number of milliseconds, at least 1000',
        );
      }
      await fetchPackages({
        manifest,
        token,
        ...(caPem ? { caPem } : {}),
        workDir: opts.into,
        downloadTimeoutMs: opts.downloadTimeoutMs,
        progress: (line) => process.stdout.write(`${line}\n`),
      });
      process.stdout.write(
        `Fetched ${manifest.packages.length} package${manifest.packages.length === 1 ? '' : 's'} from ${manifest.serverUrl}\n`,
      );
    });
}

interface FetchPackagesFlags {
  manifest: string;
  tokenFile: string;
  into: string;
  caFile?: string;
  downloadTimeoutMs: number;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new LongshoreError('CONFIG_INVALID', `Cannot read ${what} from ${path}: ${(error as Error).message}`);
  }
}

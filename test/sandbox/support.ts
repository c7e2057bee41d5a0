// Shared by the sandbox's real-client tests: where kubectl and helm are, and how to run them
// against a sandbox without touching the user's ~/.kube or helm caches.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '@longshore/sandbox';

export function kubeClientsDir(): string {
  return (
    process.env.LONGSHORE_KUBE_CLIENTS_BIN ||
    join(process.env.LONGSHORE_CACHE || join(homedir(), '.cache', 'longshore'), 'kube-clients', '2.1.0')
  );
}

export const kubectlPath = (): string => join(kubeClientsDir(), 'kubectl');
export const helmPath = (): string => join(kubeClientsDir(), 'helm');

export function clientsMissing(): string | false {
  return existsSync(kubectlPath()) && existsSync(helmPath())
    ? false
    : 'kubectl/helm not installed: run `bash scripts/install-kube-clients.sh`';
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a client binary with its own HOME and caches; resolves with the exit code (never rejects on non-zero). */
export class ClientEnv {
  readonly dir = mkdtempSync(join(tmpdir(), 'longshore-sandbox-clients-'));
  constructor(private readonly kubeconfigPath: string) {}

  /** The environment clients run in (for a client started by hand, e.g. a long-running port-forward). */
  environment(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      HOME: this.dir,
      KUBECONFIG: this.kubeconfigPath,
      KUBECACHEDIR: join(this.dir, 'kube-cache'),
      HELM_CACHE_HOME: join(this.dir, 'helm-cache'),
      HELM_CONFIG_HOME: join(this.dir, 'helm-config'),
      HELM_DATA_HOME: join(this.dir, 'helm-data'),
      ...extra,
    };
  }

  run(
    bin: string,
    args: string[],
    opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {},
  ): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = execFile(
        bin,
        args,
        {
          timeout: opts.timeoutMs ?? 30_000,
          env: this.environment(opts.env),
        },
        (err, stdout, stderr) => {
          resolve({
            code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0,
            stdout,
            stderr,
          });
        },
      );
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  }

  kubectl(
    args: string[],
    opts?: { input?: string; timeoutMs?: number; env?: Record<string, string> },
  ): Promise<RunResult> {
    return this.run(kubectlPath(), args, opts);
  }

  helm(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult> {
    return this.run(helmPath(), args, opts);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A sandbox and a client environment for the enclosing describe(), started before it and stopped after. */
export function sandboxForSuite(): { readonly sb: Sandbox; readonly env: ClientEnv } {
  const suite = {} as { sb: Sandbox; env: ClientEnv };
  before(async () => {
    suite.sb = await startSandbox();
    suite.env = new ClientEnv(suite.sb.kubeconfigPath);
  });
  after(async () => {
    await suite.sb?.stop();
    suite.env?.cleanup();
  });
  return suite;
}

/** The output of a client run that must succeed; a failure shows the client's stderr. */
export async function succeeded(run: Promise<RunResult>, what = 'the client'): Promise<string> {
  const r = await run;
  assert.equal(r.code, 0, `${what} failed:\n${r.stderr}`);
  return r.stdout;
}

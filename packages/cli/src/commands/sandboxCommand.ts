import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Sandbox, SandboxOptions } from '@longshore/sandbox';
import { serveUntilSignal } from '../lifecycle.js';

export function registerSandboxCommand(program: Command): void {
  program
    .command('sandbox')
    .description('run a Kubernetes-API-compatible cluster in this process and write a kubeconfig for it')
    .option('--config <file>', 'sandbox configuration (YAML)')
    .option('--port <port>', 'port to listen on (default: the config, else any free port)', (v) => Number(v))
    .option(
      '--kubeconfig <path>',
      'where to write the kubeconfig (default: the config, else .longshore/sandbox/kubeconfig)',
    )
    .action(async (opts: { config?: string; port?: number; kubeconfig?: string }) => {
      const { loadSandboxConfig, startSandbox } = await import('@longshore/sandbox');
      const fromFile: SandboxOptions = opts.config ? loadSandboxConfig(opts.config) : {};
      const start = () =>
        startSandbox({
          kubeconfigPath: '.longshore/sandbox/kubeconfig',
          ...fromFile,
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(opts.kubeconfig ? { kubeconfigPath: opts.kubeconfig } : {}),
        });
      const announce = (sandbox: Sandbox) =>
        process.stdout.write(
          `Sandbox cluster serving at ${sandbox.server}\nexport KUBECONFIG=${resolve(sandbox.kubeconfigPath)}\n`,
        );
      await serveUntilSignal('sandbox', start, announce, (sandbox) => sandbox.stop());
    });
}

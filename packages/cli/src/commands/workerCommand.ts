import type { Command } from 'commander';
import { runUntilSignal } from '../lifecycle.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker that takes operations from a Longshore server')
    .option('--server <url>', 'the server URL (default: $LONGSHORE_URL)')
    .option('--registration-token <token>', 'one-time token for the first start (default: $LONGSHORE_REGISTRATION_TOKEN)')
    .option('--name <name>', 'worker name, unique on the server (default: the host name)')
    .option('--executor <kind>', 'local: run operations as child processes', 'local')
    .option('--pool <pool...>', 'informational: the pools come from the registration token')
    .option('--max-concurrent <n>', 'operations run at once', '4')
    .option('--data <dir>', 'where the worker keeps its credential', '.longshore-worker')
    .option('--drain-deadline-ms <ms>', 'on stop, how long running operations may finish before they are cancelled', '60000')
    .action(async (opts: { server?: string; registrationToken?: string; name?: string; executor: string; maxConcurrent: string; data: string; drainDeadlineMs: string }) => {
      const { Worker, parseWorkerConfig } = await import('@longshore/worker');
      const config = parseWorkerConfig({
        serverUrl: opts.server ?? process.env.LONGSHORE_URL,
        registrationToken: opts.registrationToken ?? process.env.LONGSHORE_REGISTRATION_TOKEN,
        name: opts.name ?? (process.env.HOSTNAME || 'worker'),
        executor: opts.executor,
        maxConcurrentOperations: opts.maxConcurrent,
        dataDir: opts.data,
        drainDeadlineMs: opts.drainDeadlineMs,
      });
      const worker = new Worker(config);
      await runUntilSignal('worker', () => worker.stop(), worker.start());
    });
}

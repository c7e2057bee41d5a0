import type { Command } from 'commander';
import { runUntilSignal } from '../lifecycle.js';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the Longshore server')
    .option('--port <port>', 'port to listen on', (v) => Number(v), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'data directory (database, master key, packages, admin key)', '.longshore')
    .option('--public-url <url>', 'the URL workers use to reach this server')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or silent', 'info')
    .action(async (opts: { port: number; host: string; data: string; publicUrl?: string; logLevel: string }) => {
      const { serverConfigFromEnv, startServer } = await import('@longshore/server');
      const server = await startServer({
        ...serverConfigFromEnv(process.env),
        port: opts.port,
        host: opts.host,
        dataDir: opts.data,
        logLevel: opts.logLevel as 'info',
        ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
      });
      process.stdout.write(`Longshore server listening on ${server.url} (data: ${opts.data})\n`);
      await runUntilSignal('server', () => server.close());
    });
}

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ApiClient } from '../apiClient.js';
import { runUntilSignal } from '../lifecycle.js';
import { followTask } from '../taskFollower.js';
import { printTaskLine } from './deployCommands.js';
import { readApplyFile } from './clientCommands.js';

const EXAMPLE = resolve(fileURLToPath(import.meta.url), '../../../../../examples/longshore.yaml');

/**
 * `npm start`: a server, one local worker, the example project applied and deployed once while
 * you watch; then it keeps serving so you can deploy again from another terminal.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run a server and a local worker, apply the example project and deploy it once')
    .option('--port <port>', 'port to listen on', (v) => Number(v), Number(process.env.LONGSHORE_PORT ?? 8080))
    .option('--data <dir>', 'data directory', '.longshore')
    .option('--file <path>', 'the project file to apply', EXAMPLE)
    .action(async (opts: { port: number; data: string; file: string }) => {
      const [{ startServer }, { parseWorkerConfig, startWorker }, { pino }] = await Promise.all([import('@longshore/server'), import('@longshore/worker'), import('pino')]);
      const server = await startServer({ port: opts.port, dataDir: opts.data, logLevel: 'warn' });
      const client = new ApiClient({ url: server.url, apiKey: readFileSync(join(opts.data, 'admin-api-key'), 'utf8').trim() });
      const workerDir = join(opts.data, 'demo-worker');
      const registered = existsSync(join(workerDir, 'credential.json'));
      const token = registered ? undefined : (await client.post<{ token: string }>('/api/registration-tokens', { pools: ['default'] })).token;
      const worker = await startWorker(
        parseWorkerConfig({ serverUrl: server.url, name: 'demo-worker', executor: 'local', maxConcurrentOperations: 4, dataDir: workerDir, ...(token ? { registrationToken: token } : {}) }),
        // The deployment's own log is the show here; the worker speaks up only when something is wrong.
        { log: pino({ name: 'longshore-worker', level: 'warn' }) },
      );
      await client.post('/api/apply', readApplyFile(opts.file));
      process.stdout.write(`Longshore is running at ${server.url}\nApplied ${opts.file}; deploying Hello to Staging:\n\n`);
      // A fresh release each time, so an edited example file is what gets deployed.
      const release = await client.post<{ version: string }>('/api/projects/Hello/releases', {});
      const deployment = await client.post<{ taskId: string }>('/api/deployments', { project: 'Hello', environment: 'Staging', release: release.version });
      const state = await followTask(client, deployment.taskId, { onLine: printTaskLine });
      process.stdout.write(
        [
          '',
          `The demo deployment ${state}. Server: ${server.url}  (admin key: ${join(opts.data, 'admin-api-key')})`,
          'Deploy again from another terminal:',
          `  LONGSHORE_URL=${server.url} npm run -s longshore -- deploy Hello --to Production --follow`,
          `  LONGSHORE_URL=${server.url} npm run -s longshore -- tasks`,
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      await runUntilSignal('demo', async () => {
        await worker.stop();
        await server.close();
      });
    });
}

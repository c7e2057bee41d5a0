import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@longshore/server';

/**
 * One server node for the dispatch-scale benchmark, in its own process so that its CPU is its own:
 * the simulated workers run in the benchmark's process. It answers `cpu` with process.cpuUsage()
 * and stops on `stop`, over the IPC channel `fork` opened.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'longshore-dispatch-scale-'));
const server = await startServer({
  port: 0,
  dataDir,
  logLevel: 'silent',
  insecureHttp: true,
  // A simulated worker's poll answered by its wait running out must stay rare within one phase.
  maxPollWaitMs: 60_000,
  leaseMs: 120_000,
});
const apiKey = readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim();

process.on('message', (message: unknown) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send!({ cpuMs: (user + system) / 1000 });
  } else if (message === 'stop') {
    void server.close().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  }
});
process.send!({ url: server.url, apiKey });

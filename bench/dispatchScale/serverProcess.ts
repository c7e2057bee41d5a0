import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@longshore/server';

/**
 * One server node for the dispatch-scale benchmark, in its own process so that its CPU is its own:
 * the simulated workers run in the benchmark's process. It answers `cpu` with process.cpuUsage()
 * and stops on `stop`, over the IPC channel `fork` opened. Its argument, JSON, says which store:
 * `{}` for SQLite in its data directory, or `{ database, masterKey }` for a node on PostgreSQL.
 */
const store = JSON.parse(process.argv[2] ?? '{}') as { database?: string; masterKey?: string };
const dataDir = mkdtempSync(join(tmpdir(), 'longshore-dispatch-scale-'));
const server = await startServer({
  port: 0,
  dataDir,
  logLevel: 'silent',
  insecureHttp: true,
  ...store,
  // A simulated worker's poll answered by its wait running out must stay rare within one phase.
  maxPollWaitMs: 60_000,
  leaseMs: 120_000,
});
// Only the first node on a database makes the admin key.
const keyFile = join(dataDir, 'admin-api-key');
const apiKey = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined;

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

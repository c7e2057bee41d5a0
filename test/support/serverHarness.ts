import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type LongshoreServer, type ServerConfigInput } from '@longshore/server';
import { apiCall } from './apiCall.js';
import { dropPostgresDatabase, testDatabaseFor } from './postgres.js';

export interface Harness {
  server: LongshoreServer;
  url: string;
  dataDir: string;
  apiKey: string;
  /** JSON call with the admin key; answers status and parsed body. */
  api<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/**
 * A server on a random loopback port with a fresh data directory, removed on close; its store is
 * SQLite there, or with LONGSHORE_TEST_DATABASE=postgres a PostgreSQL database of its own (the
 * same one again when restarted on the same data directory).
 */
export async function startHarness(
  config: ServerConfigInput = {},
  dataDir?: string,
  /** Another node's admin key: a node that joins a store with an administrator writes none of its own. */
  apiKeyOfCluster?: string,
): Promise<Harness> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'longshore-test-'));
  // Plain HTTP, so that tests call it with fetch; HTTPS is tested on its own (test/e2e/serverTls.test.ts).
  // A database given by the test (several nodes on one) is the test's to drop.
  const store = config.database === undefined ? await testDatabaseFor(dir) : {};
  const server = await startServer({
    port: 0,
    dataDir: dir,
    logLevel: 'silent',
    insecureHttp: true,
    ...store,
    ...config,
  });
  const apiKey = apiKeyOfCluster ?? readFileSync(join(dir, 'admin-api-key'), 'utf8').trim();
  const url = server.url;
  return {
    server,
    url,
    dataDir: dir,
    apiKey,
    api: (method, path, body, headers) => apiCall(url, apiKey, method, path, body, headers),
    async close() {
      await server.close();
      if (dataDir) return;
      rmSync(dir, { recursive: true, force: true });
      if (store.database) await dropPostgresDatabase(store.database);
    },
  };
}

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiCall } from './apiCall.js';
import { freePort, runCli, startCli, type CliProcess } from './cliProcess.js';
import { startFailoverProxy, type FailoverProxy } from './failoverProxy.js';
import { FAST_SERVER_ENV } from './lab.js';
import { sharedClusterStore } from './postgres.js';

/**
 * Node heartbeats every half second, gone after three: a dead node's tasks move within a few
 * seconds. Operation leases outlast a worker's reconnect to another node, which a dead node's
 * connections make it do.
 */
const CLUSTER_ENV = {
  ...FAST_SERVER_ENV,
  LONGSHORE_LEASE_MS: '15000',
  LONGSHORE_NODE_HEARTBEAT_MS: '500',
  LONGSHORE_NODE_LEASE_MS: '3000',
};

interface Node {
  port: number;
  process: CliProcess;
}

/**
 * Several `longshore server` processes on one PostgreSQL database, and local workers each talking to
 * one node through a failover proxy (as a load balancer would), so that they reconnect to another
 * node when theirs dies.
 */
export class ClusterLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'longshore-ha-'));
  readonly nodes = new Map<string, Node>();
  readonly workers = new Map<string, CliProcess>();
  readonly #proxies: FailoverProxy[] = [];
  #store: Promise<{ database: string; masterKey: string }> | undefined;
  apiKey = '';

  /** Starts (or restarts, on the same port and data directory) the node called `name`. */
  async startNode(name: string): Promise<void> {
    const store = await (this.#store ??= sharedClusterStore());
    const port = this.nodes.get(name)?.port ?? (await freePort());
    const dataDir = join(this.dir, name);
    const args = ['server', '--port', String(port), '--data', dataDir, '--log-level', 'warn', '--insecure-http'];
    const env = { ...CLUSTER_ENV, LONGSHORE_MASTER_KEY: store.masterKey, LONGSHORE_NODE_NAME: name };
    const process = startCli([...args, '--database', store.database], env);
    this.nodes.set(name, { port, process });
    await process.waitForOutput(/listening on/);
    // The first node makes the administrator; the others join a store that has one.
    this.apiKey ||= readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim();
  }

  url(node: string): string {
    const found = this.nodes.get(node);
    if (!found) throw new Error(`no node ${node}`);
    return `http://127.0.0.1:${found.port}`;
  }

  api<T = any>(node: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    return apiCall<T>(this.url(node), this.apiKey, method, path, body);
  }

  cli(node: string, args: string[]) {
    return runCli(args, { LONGSHORE_URL: this.url(node), LONGSHORE_API_KEY: this.apiKey });
  }

  /** A local worker that talks to `node`, and to the other nodes (in the order started) while it is down. */
  async startWorker(name: string, node: string, capacity: number): Promise<void> {
    const ports = [this.nodes.get(node)!.port, ...[...this.nodes.values()].map((n) => n.port)];
    const proxy = await startFailoverProxy([...new Set(ports)]);
    this.#proxies.push(proxy);
    const token = (await this.api(node, 'POST', '/api/registration-tokens', { pools: ['default'] })).body.token;
    const worker = startCli([
      'worker',
      '--server',
      proxy.url,
      '--name',
      name,
      '--data',
      join(this.dir, `worker-${name}`),
      '--max-concurrent',
      String(capacity),
      '--registration-token',
      token,
    ]);
    this.workers.set(name, worker);
    await worker.waitForOutput(/worker running/);
  }

  async taskLog(node: string, taskId: string): Promise<any[]> {
    const lines: any[] = [];
    for (let after = 0; ;) {
      const page = (await this.api(node, 'GET', `/api/tasks/${taskId}/log?after=${after}`)).body;
      if (page.lines.length === 0) return lines;
      lines.push(...page.lines);
      after = page.cursor;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.kill('SIGKILL')));
    await Promise.all([...this.nodes.values()].map((n) => n.process.kill('SIGKILL')));
    await Promise.all(this.#proxies.map((p) => p.close()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

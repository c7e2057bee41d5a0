import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiCall } from './apiCall.js';
import { freePort, runCli, startCli, type CliProcess } from './cliProcess.js';
import { testDatabaseFor } from './postgres.js';

/** Short leases so a vanished worker is noticed within seconds, not the production minute. */
export const FAST_SERVER_ENV = {
  LONGSHORE_LEASE_MS: '3000',
  LONGSHORE_MAX_POLL_WAIT_MS: '1000',
  LONGSHORE_SWEEP_INTERVAL_MS: '200',
  LONGSHORE_WORKER_OFFLINE_AFTER_MS: '3000',
};

/** A server and its workers as separate `longshore` processes, as a user runs them. */
export class Lab {
  readonly dir = mkdtempSync(join(tmpdir(), 'longshore-e2e-'));
  readonly dataDir = join(this.dir, 'server');
  url = '';
  apiKey = '';
  server: CliProcess | undefined;
  readonly workers = new Map<string, CliProcess>();
  #port = 0;

  /**
   * `env` overrides FAST_SERVER_ENV (a test that restarts a worker needs leases that outlast the
   * restart). `store`: SQLite whatever the test run's store (`{ database: null }`), or this database.
   */
  async startServer(env: Record<string, string> = {}, store: { database?: string | null } = {}): Promise<void> {
    this.#port ||= await freePort();
    this.url = `http://127.0.0.1:${this.#port}`;
    // Plain HTTP, so that the tests and benchmarks call it with fetch; test/e2e/serverTls.test.ts covers HTTPS and pinning.
    // With LONGSHORE_TEST_DATABASE=postgres, a PostgreSQL database of its own (kept across restarts).
    const database = store.database === undefined ? (await testDatabaseFor(this.dataDir)).database : store.database;
    this.server = startCli(
      [
        'server',
        '--port',
        String(this.#port),
        '--data',
        this.dataDir,
        '--log-level',
        'warn',
        '--insecure-http',
        ...(database ? ['--database', database] : []),
      ],
      { ...FAST_SERVER_ENV, ...env },
    );
    await this.server.waitForOutput(/listening on/);
    this.apiKey = readFileSync(join(this.dataDir, 'admin-api-key'), 'utf8').trim();
  }

  /** The password of user admin, which the server's first start writes to the data directory. */
  get adminPassword(): string {
    return readFileSync(join(this.dataDir, 'admin-password'), 'utf8').trim();
  }

  get env(): Record<string, string> {
    return { LONGSHORE_URL: this.url, LONGSHORE_API_KEY: this.apiKey };
  }

  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    return apiCall<T>(this.url, this.apiKey, method, path, body);
  }

  /** Starts (or restarts, reusing its stored credential) a local worker. */
  async startWorker(name: string, options: { pools?: string[]; capacity?: number } = {}): Promise<CliProcess> {
    const data = join(this.dir, `worker-${name}`);
    let token: string[] = [];
    if (!this.workers.has(name)) {
      const t = await this.api('POST', '/api/registration-tokens', { pools: options.pools ?? ['default'] });
      token = ['--registration-token', t.body.token];
    }
    const worker = startCli([
      'worker',
      '--server',
      this.url,
      '--name',
      name,
      '--data',
      data,
      '--max-concurrent',
      String(options.capacity ?? 4),
      ...token,
    ]);
    this.workers.set(name, worker);
    await worker.waitForOutput(/worker running/);
    return worker;
  }

  /**
   * Starts (or restarts, reusing its stored credential) a Kubernetes worker against a cluster's
   * kubeconfig, in its `default` namespace; `scriptPods` is the YAML of its script pod settings.
   */
  async startKubernetesWorker(
    name: string,
    options: { kubeconfig: string; scriptPods?: string; pools?: string[]; args?: string[] },
  ): Promise<CliProcess> {
    const token = this.workers.has(name)
      ? []
      : [
          '--registration-token',
          (await this.api('POST', '/api/registration-tokens', { pools: options.pools ?? ['default'] })).body
            .token as string,
        ];
    const settings = join(this.dir, `${name}-script-pods.yaml`);
    writeFileSync(settings, options.scriptPods ?? '{}\n');
    const worker = startCli([
      'worker',
      '--executor',
      'kubernetes',
      '--kubeconfig',
      options.kubeconfig,
      '--namespace',
      'default',
      '--script-pods',
      settings,
      '--server',
      this.url,
      '--name',
      name,
      '--data',
      join(this.dir, `worker-${name}`),
      ...token,
      ...(options.args ?? []),
    ]);
    this.workers.set(name, worker);
    await worker.waitForOutput(/worker running/);
    return worker;
  }

  /** Runs the CLI as the admin, unless `env` names another key. */
  cli(args: string[], env: Record<string, string> = {}) {
    return runCli(args, { ...this.env, ...env });
  }

  async apply(yaml: string) {
    const file = join(this.dir, `apply-${Date.now()}.yaml`);
    writeFileSync(file, yaml);
    return this.cli(['apply', '-f', file]);
  }

  /** Polls the task; benchmarks poll slowly so that watching does not cost what is measured. */
  async waitForTask(taskId: string, states: string[], timeoutMs = 30_000, everyMs = 100): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = (await this.api('GET', `/api/tasks/${taskId}`)).body;
      if (states.includes(t.state)) return t;
      if (Date.now() > deadline)
        throw new Error(`task ${taskId} is ${t.state}, not ${states.join('/')}: ${JSON.stringify(t)}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  async taskLog(taskId: string): Promise<any[]> {
    const lines: any[] = [];
    for (let after = 0; ;) {
      const page = (await this.api('GET', `/api/tasks/${taskId}/log?after=${after}`)).body;
      if (page.lines.length === 0) return lines;
      lines.push(...page.lines);
      after = page.cursor;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.kill('SIGKILL')));
    await this.server?.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { dropPostgresDatabase, freshPostgresDatabase } from '../../test/support/postgres.js';

/** The server side of a run: one or more nodes sharing a store, each in its own process. */
export interface ServerNodes {
  /** What the run is labelled with in the report. */
  label: string;
  /** Every node's URL; workers and deployments are spread over them. */
  urls: readonly string[];
  apiKey: string;
  /** CPU used by all nodes since they started, in ms. */
  cpuMs(): Promise<number>;
  /** PostgreSQL: rows of poll_waiters inserted and deleted so far (the statistics lag up to a second). */
  waiterWrites?(): Promise<number>;
  close(): Promise<void>;
}

/** How a run gets its server: the embedded SQLite store, or PostgreSQL with one or more nodes. */
export interface DatabaseSetup {
  label: string;
  start(): Promise<ServerNodes>;
}

export const sqliteSetup: DatabaseSetup = {
  label: 'SQLite, 1 node',
  async start() {
    const node = await startNode({});
    return {
      label: this.label,
      urls: [node.url],
      apiKey: node.apiKey!,
      cpuMs: () => node.cpuMs(),
      close: () => node.stop(),
    };
  },
};

/**
 * `count` nodes on one fresh database of the PostgreSQL cluster the tests use
 * (test/support/postgres.ts, started on first use and stopped when the benchmark exits), with
 * one master key; the first node makes the admin key the run uses.
 */
export function postgresSetup(count: number): DatabaseSetup {
  return {
    label: `PostgreSQL, ${count} node${count === 1 ? '' : 's'}`,
    async start() {
      const database = await freshPostgresDatabase();
      const masterKey = randomBytes(32).toString('base64');
      const nodes: Node[] = [];
      const stats = new pg.Client({ connectionString: database });
      await stats.connect();
      const close = async () => {
        await Promise.all(nodes.map((n) => n.stop()));
        await stats.end();
        await dropPostgresDatabase(database);
      };
      try {
        for (let i = 0; i < count; i++) nodes.push(await startNode({ database, masterKey }));
      } catch (error) {
        await close();
        throw error;
      }
      return {
        label: this.label,
        urls: nodes.map((n) => n.url),
        apiKey: nodes[0]!.apiKey!,
        cpuMs: async () => (await Promise.all(nodes.map((n) => n.cpuMs()))).reduce((a, b) => a + b, 0),
        async waiterWrites() {
          // Backends report their counts at most once a second.
          await sleep(1_100);
          await stats.query('SELECT pg_stat_clear_snapshot()');
          const { rows } = await stats.query<{ writes: string }>(
            `SELECT n_tup_ins + n_tup_del AS writes FROM pg_stat_user_tables WHERE relname = 'poll_waiters'`,
          );
          return Number(rows[0]?.writes ?? 0);
        },
        close,
      };
    },
  };
}

interface Node {
  url: string;
  /** The admin key, when this node's start made it. */
  apiKey: string | undefined;
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

/** `store`: the settings that choose the store (serverProcess.ts takes them as its argument). */
async function startNode(store: { database?: string; masterKey?: string }): Promise<Node> {
  const child = fork(fileURLToPath(new URL('./serverProcess.ts', import.meta.url)), [JSON.stringify(store)], {
    execArgv: ['--conditions=source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the server process exited with ${String(code)} before it was ready`);
    }),
  ])) as [{ url: string; apiKey?: string }];
  return {
    url: ready.url,
    apiKey: ready.apiKey,
    cpuMs: () => ask(child),
    async stop() {
      const exited = once(child, 'exit');
      child.send('stop');
      await exited;
    },
  };
}

async function ask(child: ChildProcess): Promise<number> {
  const answer = once(child, 'message');
  child.send('cpu');
  const [reply] = (await answer) as [{ cpuMs: number }];
  return reply.cpuMs;
}

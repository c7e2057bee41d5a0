import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** The server side of a run: one or more nodes sharing a store, each in its own process. */
export interface ServerNodes {
  /** What the run is labelled with in the report. */
  label: string;
  /** Every node's URL; workers and deployments are spread over them. */
  urls: readonly string[];
  apiKey: string;
  /** CPU used by all nodes since they started, in ms. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

/** How a run gets its server: the embedded SQLite store now; PostgreSQL with one or two nodes once the store speaks it. */
export interface DatabaseSetup {
  label: string;
  start(): Promise<ServerNodes>;
}

export const sqliteSetup: DatabaseSetup = {
  label: 'SQLite, 1 node',
  async start() {
    const node = await startNode();
    return {
      label: this.label,
      urls: [node.url],
      apiKey: node.apiKey,
      cpuMs: () => node.cpuMs(),
      close: () => node.stop(),
    };
  },
};

interface Node {
  url: string;
  apiKey: string;
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

async function startNode(): Promise<Node> {
  const child = fork(fileURLToPath(new URL('./serverProcess.ts', import.meta.url)), {
    execArgv: ['--conditions=source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the server process exited with ${String(code)} before it was ready`);
    }),
  ])) as [{ url: string; apiKey: string }];
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

import type { ServerNodes } from './serverNodes.js';
import { SimulatedWorker, type PollTally } from './simulatedWorker.js';

/** A JSON call with the administrator's key. */
export async function adminCall<T>(
  url: string,
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Runs `work` over `items` with at most `width` at a time, keeping the order of the results. */
export async function inBatches<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

export interface Fleet {
  tally: PollTally;
  /** Throws what stopped a worker's loop, if one did. */
  check(): void;
  stop(): Promise<void>;
}

/** Registers `count` workers in the default pool, spread over the nodes, and starts their polls. */
export async function startFleet(nodes: ServerNodes, count: number): Promise<Fleet> {
  const tally: PollTally = { withWork: 0, emptyEarly: 0, waitedOut: 0, completed: 0 };
  const indexes = Array.from({ length: count }, (_, i) => i);
  const workers = await inBatches(indexes, 16, async (i) => {
    const url = nodes.urls[i % nodes.urls.length]!;
    const { token } = await adminCall<{ token: string }>(url, nodes.apiKey, 'POST', '/api/registration-tokens', {});
    const res = await fetch(url + '/api/agent/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, name: `sim-${i}`, executor: 'local', version: '0.1.0', capacity: 1 }),
    });
    if (res.status !== 201) throw new Error(`registering sim-${i}: ${res.status} ${await res.text()}`);
    const { credential } = (await res.json()) as { credential: string };
    return new SimulatedWorker(url, credential, tally);
  });
  for (const w of workers) w.start();
  return {
    tally,
    check() {
      const failed = workers.find((w) => w.error !== undefined);
      if (failed) throw failed.error;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}

import { setTimeout as sleep } from 'node:timers/promises';
import { adminCall, inBatches, startFleet, type Fleet } from './dispatchScale/fleet.js';
import { postgresSetup, sqliteSetup, type DatabaseSetup, type ServerNodes } from './dispatchScale/serverNodes.js';
import { percentile, report, round } from './stats.js';

/**
 * Dispatch as the number of idle workers grows: 50, 200 and 1,000 simulated workers (one keep-alive
 * connection each, the real worker protocol) long-poll one pool while one-step deployments are
 * queued one at a time, at a steady rate and in a burst. Before wake-ups were counted, every queued
 * operation answered every idle poll of its pool: issue 20 measured, for one operation, 50 / 200 /
 * 500 polls answered and 38 / 70 / 147 ms of server CPU with 50 / 200 / 500 idle workers. The
 * figures to read are polls answered per operation (goal <= 1.1, the old behaviour's was the number
 * of idle workers) and server CPU per operation staying flat as workers grow.
 */
export interface DispatchScaleOptions {
  /** Each store is measured with every worker count. */
  databases: readonly DatabaseSetup[];
  workerCounts: readonly number[];
  /** One-at-a-time operations, steady-rate operations and their rate, burst operations. */
  single: number;
  steady: { count: number; perSecond: number };
  burst: number;
}

const DEFAULTS: DispatchScaleOptions = {
  databases: [sqliteSetup, postgresSetup(1), postgresSetup(2)],
  workerCounts: [50, 200, 1000],
  single: 20,
  steady: { count: 100, perSecond: 20 },
  burst: 300,
};

interface PhaseFigures {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  pollsPerOperation: number;
  cpuMsPerOperation: number;
  /** PostgreSQL: rows of waiting polls inserted and deleted per poll, the cost of waking across nodes. */
  waiterWritesPerPoll: number | undefined;
}

export async function dispatchScaleBench(
  options: Partial<DispatchScaleOptions> = {},
): Promise<Record<string, number | string>> {
  const o = { ...DEFAULTS, ...options };
  const figures: Record<string, number | string> = {};
  for (const database of o.databases)
    for (const workers of o.workerCounts) {
      const nodes = await database.start();
      try {
        const url = nodes.urls[0]!;
        await adminCall(url, nodes.apiKey, 'POST', '/api/apply', {
          environments: [{ name: 'Bench' }],
          projects: [{ name: 'One step', process: { steps: [{ name: 'Only', script: { body: 'true' } }] } }],
        });
        const fleet = await startFleet(nodes, workers);
        // Every worker has looked at the empty queue and waits in its poll.
        await sleep(1000 + workers);
        const phases: [string, () => Promise<string[]>][] = [
          ['one at a time', () => oneAtATime(nodes, fleet, o.single)],
          [`steady ${o.steady.perSecond}/s`, () => steadyRate(nodes, o.steady.count, o.steady.perSecond)],
          [`burst of ${o.burst}`, () => burst(nodes, o.burst)],
        ];
        for (const [name, queue] of phases) {
          const f = await measure(nodes, fleet, queue);
          const at = `${database.label}, ${workers} workers, ${name}:`;
          figures[`${at} dispatch (ops/s)`] = round(f.opsPerSecond, 1);
          figures[`${at} queued -> leased p50 / p99 (ms)`] = `${f.p50Ms} / ${f.p99Ms}`;
          figures[`${at} polls answered per op (goal <= 1.1)`] = round(f.pollsPerOperation);
          figures[`${at} server CPU per op (ms)`] = round(f.cpuMsPerOperation);
          if (f.waiterWritesPerPoll !== undefined)
            figures[`${at} poll_waiters rows written per poll`] = round(f.waiterWritesPerPoll);
        }
        await fleet.stop();
      } finally {
        await nodes.close();
      }
    }
  return figures;
}

/** Runs one phase: queues its deployments, waits until the fleet has completed them all, and reads the figures. */
async function measure(nodes: ServerNodes, fleet: Fleet, queue: () => Promise<string[]>): Promise<PhaseFigures> {
  const before = { ...fleet.tally, cpuMs: await nodes.cpuMs(), waiterWrites: await nodes.waiterWrites?.() };
  const t0 = performance.now();
  const taskIds = await queue();
  const count = taskIds.length;
  await completed(fleet, before.completed + count);
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = (await nodes.cpuMs()) - before.cpuMs;
  const waiterWrites = await nodes.waiterWrites?.();
  const polls = fleet.tally.withWork + fleet.tally.emptyEarly + fleet.tally.waitedOut;
  const pollsBefore = before.withWork + before.emptyEarly + before.waitedOut;
  // Polls whose wait ran out are the fleet's idle cost, paid with or without work.
  const answered = fleet.tally.withWork + fleet.tally.emptyEarly - before.withWork - before.emptyEarly;
  const waits = await inBatches(taskIds, 8, async (id) => {
    const task = await adminCall<{ steps: { operations: { queuedAt: string; leasedAt: string }[] }[] }>(
      nodes.urls[0]!,
      nodes.apiKey,
      'GET',
      `/api/tasks/${id}`,
    );
    const op = task.steps[0]!.operations[0]!;
    return Date.parse(op.leasedAt) - Date.parse(op.queuedAt);
  });
  return {
    opsPerSecond: count / seconds,
    p50Ms: percentile(waits, 50),
    p99Ms: percentile(waits, 99),
    pollsPerOperation: answered / count,
    cpuMsPerOperation: cpuMs / count,
    waiterWritesPerPoll:
      waiterWrites === undefined || before.waiterWrites === undefined
        ? undefined
        : (waiterWrites - before.waiterWrites) / Math.max(1, polls - pollsBefore),
  };
}

let deployments = 0;
/** Queues one one-step deployment, on the nodes in turn. */
async function deploy(nodes: ServerNodes): Promise<string> {
  const url = nodes.urls[deployments++ % nodes.urls.length]!;
  const { taskId } = await adminCall<{ taskId: string }>(url, nodes.apiKey, 'POST', '/api/deployments', {
    project: 'One step',
    environment: 'Bench',
  });
  return taskId;
}

async function oneAtATime(nodes: ServerNodes, fleet: Fleet, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const done = fleet.tally.completed;
    ids.push(await deploy(nodes));
    await completed(fleet, done + 1);
  }
  return ids;
}

async function steadyRate(nodes: ServerNodes, count: number, perSecond: number): Promise<string[]> {
  const start = performance.now();
  const queued: Promise<string>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / perSecond;
    await sleep(Math.max(0, due - performance.now()));
    queued.push(deploy(nodes));
  }
  return Promise.all(queued);
}

function burst(nodes: ServerNodes, count: number): Promise<string[]> {
  return inBatches(
    Array.from({ length: count }, (_, i) => i),
    16,
    () => deploy(nodes),
  );
}

async function completed(fleet: Fleet, target: number, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (fleet.tally.completed < target) {
    fleet.check();
    if (performance.now() > deadline)
      throw new Error(`${fleet.tally.completed} of ${target} operations completed after ${timeoutMs} ms`);
    await sleep(2);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) report('dispatch-scale', await dispatchScaleBench());

import type { Outcome } from '@longshore/protocol';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DispatchObserver } from '../dispatch/dispatcher.js';
import type { OperationObserver } from '../orchestration/taskRunnerParts.js';
import type { PoolStatistics } from './poolStatistics.js';

/**
 * The server's Prometheus metrics, served at /metrics. Queue and worker gauges are read from the
 * store when scraped (a few grouped queries), so nothing is kept in step; counters and the
 * dispatch latency are counted as operations end and are leased, from the server's start. They
 * hold pool names and counts, never a secret. No default process collectors: their event-loop
 * monitor ticks all the time.
 */
export class ServerMetrics implements DispatchObserver, OperationObserver {
  readonly registry = new Registry();
  readonly #outcomes: Counter<'outcome'>;
  readonly #dispatchLatency: Histogram;

  constructor(readPools: () => Promise<PoolStatistics[]>) {
    const registers = [this.registry];
    // One read serves every gauge of a scrape: they are collected together, the first one reads.
    let reading: Promise<PoolStatistics[]> | undefined;
    const read = () => (reading ??= readPools().finally(() => setImmediate(() => (reading = undefined))));
    const poolGauge = (name: string, help: string, value: (p: PoolStatistics) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['pool'],
        registers,
        async collect(this: Gauge<'pool'>) {
          const pools = await read();
          this.reset();
          for (const p of pools) this.set({ pool: p.pool }, value(p));
        },
      });
    poolGauge('longshore_pool_queue_depth', 'Operations queued in the pool for a worker', (p) => p.queueDepth);
    poolGauge(
      'longshore_pool_oldest_wait_seconds',
      "How long the pool's oldest queued operation has waited for a worker",
      (p) => p.oldestWaitSeconds,
    );
    poolGauge(
      'longshore_pool_usable_workers',
      'Workers of the pool that may be given operations: enabled, online, healthy or not checked yet',
      (p) => p.usableWorkers,
    );
    poolGauge(
      'longshore_pool_capacity',
      'Operations the usable workers of the pool may run at once',
      (p) => p.capacity,
    );
    poolGauge(
      'longshore_pool_free_capacity',
      'Of the capacity of the pool, what its usable workers are not using now',
      (p) => p.freeCapacity,
    );
    new Gauge({
      name: 'longshore_workers',
      help: "Workers of the pool by their last health check's finding",
      labelNames: ['pool', 'health'],
      registers,
      async collect(this: Gauge<'pool' | 'health'>) {
        const pools = await read();
        this.reset();
        for (const p of pools)
          for (const [health, count] of Object.entries(p.workersByHealth)) this.set({ pool: p.pool, health }, count);
      },
    });
    this.#outcomes = new Counter({
      name: 'longshore_operations_total',
      help: 'Operations finished since the server started, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.#dispatchLatency = new Histogram({
      name: 'longshore_dispatch_latency_seconds',
      help: 'From an operation being queued to a worker leasing it',
      buckets: [0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    });
  }

  operationsFinished(outcome: Outcome, count: number): void {
    this.#outcomes.inc({ outcome }, count);
  }

  operationsLeased(waitedSeconds: readonly number[]): void {
    for (const s of waitedSeconds) this.#dispatchLatency.observe(s);
  }
}

import type { Outcome } from '@longshore/protocol';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Where the gauges read their values at scrape time: nothing is counted twice or kept in step. */
export interface MetricSources {
  runningOperations?: () => number;
  pendingPods?: () => number;
}

/**
 * The worker's Prometheus metrics. Gauges are read from the worker and the executor when
 * scraped, so an idle worker does no metrics work at all; no default process collectors,
 * for the same reason (their event-loop monitor ticks all the time).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly sources: MetricSources = {};
  private readonly outcomes: Counter<'outcome'>;
  private readonly podStart: Histogram;

  constructor() {
    const registers = [this.registry];
    const sources = this.sources;
    new Gauge({
      name: 'longshore_worker_operations_running',
      help: 'Operations this worker holds now (preparing, pending or running)',
      registers,
      collect(this: Gauge) {
        this.set(sources.runningOperations?.() ?? 0);
      },
    });
    new Gauge({
      name: 'longshore_worker_script_pods_pending',
      help: 'Script pods of this worker waiting for a node or an image',
      registers,
      collect(this: Gauge) {
        this.set(sources.pendingPods?.() ?? 0);
      },
    });
    this.outcomes = new Counter({
      name: 'longshore_worker_operations_total',
      help: 'Operations finished, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.podStart = new Histogram({
      name: 'longshore_worker_pod_start_seconds',
      help: 'From creating a script pod to its script container starting: scheduling, node scale-up and image pull',
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1200],
      registers,
    });
    new Gauge({
      name: 'longshore_worker_resident_memory_bytes',
      help: 'Resident set size of the worker process',
      registers,
      collect(this: Gauge) {
        this.set(process.memoryUsage.rss());
      },
    });
  }

  /** Connects the gauges to what they read (each part calls it for what it knows). */
  observe(sources: MetricSources): void {
    Object.assign(this.sources, sources);
  }

  operationFinished(outcome: Outcome): void {
    this.outcomes.inc({ outcome });
  }

  podStarted(seconds: number): void {
    this.podStart.observe(seconds);
  }
}

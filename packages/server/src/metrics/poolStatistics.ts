import { ACTIVE_OPERATION_STATES, type WorkerHealth } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import { unusableBecause } from '../dispatch/workerUsability.js';

export interface PoolStatistics {
  pool: string;
  /** Operations queued for a worker (not those held back by a step's maxParallelism). */
  queueDepth: number;
  /** How long the oldest of them has waited; 0 when none does. */
  oldestWaitSeconds: number;
  workersByHealth: Record<WorkerHealth, number>;
  /** Workers that may be given new operations: enabled, online, healthy or not checked yet. */
  usableWorkers: number;
  /** Operations the usable workers may run at once. */
  capacity: number;
  /** Of that capacity, what they are not using now (a worker in several pools counts in each). */
  freeCapacity: number;
}

/**
 * Every pool's queue and workers, read when metrics are scraped: grouped queries of the queued
 * and the held operations and one of the workers (a few hundred rows at most), so a scrape costs the same
 * whatever has run before. Every pool is listed, an empty one with zeros, so an autoscaler's
 * query finds 0 rather than nothing.
 */
export async function poolStatistics(db: Store, now: number, offlineAfterMs: number): Promise<PoolStatistics[]> {
  const pools = await db.selectFrom('worker_pools').select(['id', 'name']).orderBy('name').execute();
  const queues = await db
    .selectFrom('operations')
    .select((eb) => [
      'pool_id',
      eb.fn.countAll<number>().as('depth'),
      eb.fn.min<number>(eb.fn.coalesce('queued_at', 'created_at')).as('oldest'),
    ])
    .where('state', '=', 'queued')
    .groupBy('pool_id')
    .execute();
  const held = await db
    .selectFrom('operations')
    .select((eb) => ['worker_id', eb.fn.countAll<number>().as('n')])
    .where('state', 'in', ACTIVE_OPERATION_STATES)
    .groupBy('worker_id')
    .execute();
  const busy = new Map(held.map((h) => [h.worker_id, Number(h.n)]));
  const workers = await db
    .selectFrom('workers')
    .select(['id', 'name', 'pools', 'capacity', 'disabled', 'last_seen_at', 'offline_at', 'health', 'health_reasons'])
    .execute();
  const byPool = new Map(
    pools.map((p): [string, PoolStatistics] => [
      p.id,
      {
        pool: p.name,
        queueDepth: 0,
        oldestWaitSeconds: 0,
        workersByHealth: { unknown: 0, healthy: 0, unhealthy: 0, unavailable: 0 },
        usableWorkers: 0,
        capacity: 0,
        freeCapacity: 0,
      },
    ]),
  );
  for (const q of queues) {
    const stats = byPool.get(q.pool_id);
    if (!stats) continue;
    stats.queueDepth = Number(q.depth);
    stats.oldestWaitSeconds = Math.max(0, (now - Number(q.oldest)) / 1000);
  }
  for (const w of workers) {
    const usable = unusableBecause(w, now, offlineAfterMs) === undefined;
    const free = Math.max(0, w.capacity - (busy.get(w.id) ?? 0));
    for (const poolId of JSON.parse(w.pools) as string[]) {
      const stats = byPool.get(poolId);
      if (!stats) continue;
      stats.workersByHealth[w.health] += 1;
      if (!usable) continue;
      stats.usableWorkers += 1;
      stats.capacity += w.capacity;
      stats.freeCapacity += free;
    }
  }
  return [...byPool.values()];
}

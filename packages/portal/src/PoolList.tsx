import type { PoolStatistics, WorkerPool } from '@longshore/client';
import { DataTable, type Column } from './DataTable.js';

interface PoolRow {
  pool: WorkerPool;
  /** Absent for a pool made since the statistics were read. */
  stats: PoolStatistics | undefined;
}

const workerCount = (s: PoolStatistics) => Object.values(s.workersByHealth).reduce((a, b) => a + b, 0);

function healthSummary(s: PoolStatistics): string {
  return Object.entries(s.workersByHealth)
    .filter(([, n]) => n > 0)
    .map(([health, n]) => `${n} ${health}`)
    .join(', ');
}

/** Per statistic, shown only once the server has counted the pool. */
const counted =
  (show: (s: PoolStatistics) => string | number) =>
  ({ stats }: PoolRow) =>
    stats ? show(stats) : '…';

const COLUMNS: Column<PoolRow>[] = [
  { header: 'Pool', cell: ({ pool }) => pool.name },
  { header: 'Default', cell: ({ pool }) => (pool.isDefault ? 'yes' : 'no') },
  { header: 'Queued', cell: counted((s) => s.queueDepth) },
  { header: 'Oldest wait', cell: counted((s) => (s.queueDepth ? `${Math.round(s.oldestWaitSeconds)} s` : '—')) },
  {
    header: 'Capacity',
    cell: counted((s) => (s.usableWorkers ? `${s.freeCapacity} free of ${s.capacity}` : 'none: no usable worker')),
  },
  {
    header: 'Workers',
    cell: counted((s) => (workerCount(s) ? `${workerCount(s)}: ${healthSummary(s)}` : 'none')),
  },
];

/**
 * The worker pools with what the server counts of each (GET /api/pool-statistics): operations
 * queued and how long the oldest has waited, the capacity of its usable workers and how much is
 * free, and its workers by health.
 */
export function PoolList(props: { pools: WorkerPool[]; statistics: PoolStatistics[] }) {
  const byName = new Map(props.statistics.map((s) => [s.pool, s]));
  const rows = props.pools.map((pool) => ({ pool, stats: byName.get(pool.name) }));
  return (
    <section aria-labelledby="pools-heading">
      <h2 id="pools-heading">Worker pools</h2>
      {rows.length === 0 ? (
        <p className="empty">
          No worker pools: list them under <code>workerPools:</code> in longshore.yaml and run{' '}
          <code>longshore apply -f longshore.yaml</code>.
        </p>
      ) : (
        <DataTable labelledBy="pools-heading" rows={rows} rowKey={(r) => r.pool.id} columns={COLUMNS} />
      )}
    </section>
  );
}

import { sql } from 'kysely';
import type { Store } from '../store/database.js';
import { jsonArrayMembers } from '../store/sqlDialect.js';
import { unusableBecause } from './workerUsability.js';

/** Workers named in one explanation; a pool of hundreds gets a count for the rest. */
const MAX_WORKERS_NAMED = 10;

/**
 * Why no worker of the pool can take new operations, as a task log reads it, e.g. "No healthy
 * worker in pool 'builders': k8s-1 unhealthy — cannot create pods; k8s-2 offline"; undefined when
 * one can. One query of the pool's workers, whatever the number of operations waiting.
 */
export async function whyPoolUnusable(
  db: Store,
  poolId: string,
  now: number,
  offlineAfterMs: number,
): Promise<string | undefined> {
  const workers = await db
    .selectFrom('workers')
    .select(['name', 'disabled', 'last_seen_at', 'offline_at', 'health', 'health_reasons'])
    .where(sql<boolean>`exists (select 1 from ${jsonArrayMembers(db, 'workers.pools')} where member.value = ${poolId})`)
    .orderBy('name')
    .execute();
  const causes: string[] = [];
  for (const w of workers) {
    const cause = unusableBecause(w, now, offlineAfterMs);
    if (cause === undefined) return undefined;
    causes.push(`${w.name} ${cause}`);
  }
  const pool = await db.selectFrom('worker_pools').select('name').where('id', '=', poolId).executeTakeFirst();
  const name = `pool '${pool?.name ?? poolId}'`;
  if (causes.length === 0) return `No worker in ${name}`;
  const named = causes.slice(0, MAX_WORKERS_NAMED);
  if (causes.length > named.length) named.push(`and ${causes.length - named.length} more`);
  return `No healthy worker in ${name}: ${named.join('; ')}`;
}

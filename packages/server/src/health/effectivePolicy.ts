import { sql, type RawBuilder } from 'kysely';
import { DEFAULT_MACHINE_POLICY_ID } from '../store/machinePoliciesMigration.js';
import { jsonArrayMembers, type SqlRunner } from '../store/sqlDialect.js';

/**
 * The id of the machine policy a worker follows, as SQL over the `workers` row of the query: the
 * policy it names, else the one its first pool naming a policy names (in the order of its pools),
 * else the default. One expression, so that a single query finds every worker's policy.
 */
export function effectivePolicyId(db: SqlRunner): RawBuilder<string> {
  return sql<string>`coalesce(
  workers.machine_policy_id,
  (select worker_pools.machine_policy_id from ${jsonArrayMembers(db, 'workers.pools')}
     join worker_pools on worker_pools.id = member.value
     where worker_pools.machine_policy_id is not null order by member.key limit 1),
  ${DEFAULT_MACHINE_POLICY_ID})`;
}

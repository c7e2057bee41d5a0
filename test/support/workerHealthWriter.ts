import type { WorkerHealth } from '@longshore/protocol';
import type { Harness } from './serverHarness.js';

/**
 * Writes a worker's health columns straight into the harness's store, as a health check's report
 * would, for tests of what dispatch does with them. Test-only: the server sets these from the
 * agent's health reports and offline call.
 */
export async function setWorkerHealth(
  h: Pick<Harness, 'server'>,
  workerName: string,
  health: WorkerHealth,
  reasons: string[] = [],
  offline = false,
): Promise<void> {
  await h.server.ctx.db
    .updateTable('workers')
    .set({
      health,
      health_reasons: JSON.stringify(reasons),
      health_checked_at: Date.now(),
      offline_at: offline ? Date.now() : null,
    })
    .where('name', '=', workerName)
    .execute();
}

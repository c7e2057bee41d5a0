import type { FastifyBaseLogger } from 'fastify';
import type { LogLine } from '@longshore/protocol';
import type { TaskLog } from '../logs/taskLog.js';
import type { Store } from '../store/database.js';

export interface TaskEndParts {
  db: Store;
  taskLog: TaskLog;
  log: Pick<FastifyBaseLogger, 'error'>;
}

/**
 * Ends a task that is not a deployment (a health check, a worker's upgrade) with its last line.
 * The line goes in first, so a follower that sees the end has it; a line that cannot be written
 * does not keep the task from ending.
 */
export async function endTask(parts: TaskEndParts, taskId: string, succeeded: boolean, message: string): Promise<void> {
  const level: LogLine['level'] = succeeded ? 'info' : 'error';
  try {
    await parts.taskLog.system(taskId, message, level);
  } catch (err) {
    parts.log.error({ err, taskId }, 'writing the last line of a task failed');
  }
  await parts.db
    .updateTable('tasks')
    .set({
      state: succeeded ? 'succeeded' : 'failed',
      failed: succeeded ? 0 : 1,
      error: succeeded ? null : message,
      completed_at: Date.now(),
    })
    .where('id', '=', taskId)
    .execute();
  parts.taskLog.notify(taskId);
}

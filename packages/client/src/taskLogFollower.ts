import { LongshoreError, errorCodes, isLongshoreError } from '@longshore/protocol';
import type { ApiConnection } from './apiConnection.js';
import type { Task, TaskLogLine, TaskLogPage } from './apiTypes.js';
import { serverSentEvents } from './serverSentEvents.js';

export interface TaskLogHandlers {
  onLine(line: TaskLogLine): void;
  /** The task as it changes (its `task` events). */
  onTask?(task: Task): void;
}

/** Attempts in a row that may fail before following gives up. */
const MAX_FAILURES = 30;

/**
 * Follows a task's log over server-sent events until the task ends, and answers its final state.
 * A dropped connection (or a server that cannot answer for a while) is resumed from the last
 * cursor, so no line is shown twice or skipped; the server's refusal (an unknown task) is not retried.
 * The server bounds each `lines` event in bytes, and a page may end inside a batch of lines: its
 * cursor says exactly where, so only the cursor of a whole event may be kept.
 */
export async function followTaskLog(
  connection: ApiConnection,
  taskId: string,
  handlers: TaskLogHandlers,
  signal?: AbortSignal,
): Promise<string> {
  let cursor = 0;
  let failures = 0;
  for (;;) {
    try {
      const response = await connection.stream({
        method: 'GET',
        path: `/api/tasks/${encodeURIComponent(taskId)}/log/stream`,
        query: { after: cursor },
        ...(signal ? { signal } : {}),
      });
      failures = 0;
      if (!response.body) throw new LongshoreError('INTERNAL', `The log stream of task ${taskId} has no body`);
      for await (const event of serverSentEvents(response.body)) {
        if (event.type === 'lines') {
          const page = JSON.parse(event.data) as Pick<TaskLogPage, 'lines' | 'cursor'>;
          for (const line of page.lines) handlers.onLine(line);
          cursor = page.cursor;
        } else if (event.type === 'task') {
          handlers.onTask?.(JSON.parse(event.data) as Task);
        } else if (event.type === 'end') {
          return (JSON.parse(event.data) as { state: string }).state;
        }
      }
    } catch (error) {
      if (signal?.aborted || isRefusal(error)) throw error;
      if (++failures > MAX_FAILURES) throw error;
    }
    await pause(Math.min(5_000, 200 * 2 ** Math.min(failures, 5)), signal);
  }
}

/** The server's answer to this request (an unknown task, a revoked key): asking again changes nothing. */
function isRefusal(error: unknown): boolean {
  return isLongshoreError(error) && errorCodes[error.code].status < 500;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const done = (): void => {
      signal?.removeEventListener('abort', abort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const abort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}

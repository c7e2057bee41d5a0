import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from './apiClient.js';

export interface FollowedLine {
  operationId: string | null;
  seq: number;
  stream: 'stdout' | 'stderr' | 'system';
  ts: number;
  text: string;
  level?: 'info' | 'warning' | 'error';
  step?: string;
  target?: string;
}

export interface FollowHandlers {
  onLine(line: FollowedLine): void;
  onTask?(task: unknown): void;
}

/**
 * Follows a task's log over server-sent events until the task ends. A dropped connection is
 * resumed from the last cursor, so no line is shown twice or skipped. Answers the final state.
 * The server bounds each `lines` event in bytes, and a page may end inside a batch of lines:
 * its cursor says exactly where, so only the cursor of a whole event may be kept.
 */
export async function followTask(
  client: ApiClient,
  taskId: string,
  handlers: FollowHandlers,
  signal?: AbortSignal,
): Promise<string> {
  let cursor = 0;
  let failures = 0;
  for (;;) {
    try {
      const res = await client.stream(
        `/api/tasks/${encodeURIComponent(taskId)}/log/stream?after=${cursor}`,
        { accept: 'text/event-stream' },
        signal,
      );
      failures = 0;
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res) {
        // A page's event arrives in many pieces: look for its end only in what is new.
        let from = Math.max(0, buffer.length - 1);
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let split: number;
        while ((split = buffer.indexOf('\n\n', from)) >= 0) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          from = 0;
          const event = parseEvent(block);
          if (!event) continue;
          if (event.type === 'lines') {
            const page = JSON.parse(event.data) as { lines: FollowedLine[]; cursor: number };
            for (const line of page.lines) handlers.onLine(line);
            cursor = page.cursor;
          } else if (event.type === 'task') {
            handlers.onTask?.(JSON.parse(event.data));
          } else if (event.type === 'end') {
            return (JSON.parse(event.data) as { state: string }).state;
          }
        }
      }
    } catch (e) {
      if (signal?.aborted) throw e;
      if (++failures > 30) throw e;
    }
    await sleep(Math.min(5_000, 200 * 2 ** Math.min(failures, 5)));
  }
}

function parseEvent(block: string): { type: string; data: string } | undefined {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) type = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  return data.length ? { type, data: data.join('\n') } : undefined;
}

import { setTimeout as sleep } from 'node:timers/promises';

/** Whether every promise settled within the time (false at once when the signal ends); the timer is cleared either way. */
export async function endedWithin(
  promises: Iterable<Promise<unknown>>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      Promise.all(promises).then(() => true),
      sleep(timeoutMs, false, { signal: AbortSignal.any([timer.signal, signal]) }).catch(() => false),
    ]);
  } finally {
    timer.abort();
  }
}

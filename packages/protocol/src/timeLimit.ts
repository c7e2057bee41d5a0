/**
 * A signal that aborts after `ms`. Unlike AbortSignal.timeout, whose timer is unreferenced, it
 * holds the process open while something waits on it (a stopping worker's last call, a health
 * check), and `clear()` ends it as soon as that is done.
 */
export function timeLimit(ms: number, message = 'The time limit passed'): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(message, 'TimeoutError')), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** How a failed delivery is tried again; from the server's configuration. */
export interface RetryPolicy {
  /** The wait after the first failed attempt. */
  baseMs: number;
  /** No wait is longer than this. */
  maxDelayMs: number;
  /** After this many attempts a delivery is failed. */
  maxAttempts: number;
}

/** Each wait is this many times the one before: 10 s, 30 s, 1.5 min, 4.5 min ... with the defaults. */
const GROWTH = 3;
/** Up to a fifth either way, so receivers that come back are not hit by every waiting delivery at once. */
const JITTER = 0.2;

/**
 * The wait after `attempts` attempts (1 or more) have failed, or undefined when there is to be no
 * other: the delivery has failed for good.
 */
export function nextRetryDelayMs(policy: RetryPolicy, attempts: number, random = Math.random): number | undefined {
  if (attempts >= policy.maxAttempts) return undefined;
  const delay = Math.min(policy.baseMs * GROWTH ** (attempts - 1), policy.maxDelayMs);
  return Math.round(delay * (1 - JITTER + 2 * JITTER * random()));
}

import type { WorkerHealth } from '@longshore/protocol';
import type { Database } from '../store/schema.js';

/** Health states that may be given new operations: `unknown` is a worker never checked yet. */
export const USABLE_HEALTH: readonly WorkerHealth[] = ['unknown', 'healthy'];

export function isUsableHealth(health: WorkerHealth): boolean {
  return USABLE_HEALTH.includes(health);
}

export type WorkerUsabilityRow = Pick<Database['workers'], 'name' | 'disabled' | 'last_seen_at' | 'offline_at'> & {
  health: WorkerHealth;
  /** JSON array of strings. */
  health_reasons: string;
};

/** Online: polling within the offline window, and not since saying it stopped. */
export function isOnline(
  worker: Pick<Database['workers'], 'last_seen_at' | 'offline_at'>,
  now: number,
  offlineAfterMs: number,
): boolean {
  return worker.offline_at === null && now - worker.last_seen_at < offlineAfterMs;
}

/** Why a worker cannot take new operations, first cause first; undefined when it can. */
export function unusableBecause(worker: WorkerUsabilityRow, now: number, offlineAfterMs: number): string | undefined {
  if (worker.disabled) return 'disabled';
  if (!isOnline(worker, now, offlineAfterMs)) return 'offline';
  if (isUsableHealth(worker.health)) return undefined;
  const reasons = parseReasons(worker.health_reasons);
  return reasons.length ? `${worker.health} — ${reasons.join(', ')}` : worker.health;
}

/** A few reasons, each short: the line they go into is read by people, once per step. */
const MAX_REASONS = 3;
const MAX_REASON_CHARS = 300;

function parseReasons(json: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const reasons = parsed.filter((r): r is string => typeof r === 'string' && r.length > 0);
  const shown = reasons
    .slice(0, MAX_REASONS)
    .map((r) => (r.length > MAX_REASON_CHARS ? `${r.slice(0, MAX_REASON_CHARS)}…` : r));
  if (reasons.length > MAX_REASONS) shown.push(`${reasons.length - MAX_REASONS} more`);
  return shown;
}

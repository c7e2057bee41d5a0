import { LongshoreError } from '@longshore/protocol';
import type { Logger } from 'pino';

/**
 * created -> starting -> running -> draining -> stopped, and failed from any live state.
 * `stop()` on a created worker goes straight to stopped.
 */
export type WorkerState = 'created' | 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

const allowed: Record<WorkerState, readonly WorkerState[]> = {
  created: ['starting', 'stopped'],
  starting: ['running', 'draining', 'failed'],
  running: ['draining', 'failed'],
  draining: ['stopped', 'failed'],
  stopped: [],
  failed: [],
};

/** One named state at a time; every transition is logged, an illegal one throws ILLEGAL_STATE. */
export class Lifecycle {
  private current: WorkerState = 'created';
  private readonly listeners: ((state: WorkerState) => void)[] = [];

  constructor(private readonly log: Logger) {}

  get state(): WorkerState {
    return this.current;
  }

  is(...states: WorkerState[]): boolean {
    return states.includes(this.current);
  }

  to(next: WorkerState, reason: string): void {
    if (!allowed[this.current].includes(next)) {
      throw new LongshoreError('ILLEGAL_STATE', `The worker cannot go from ${this.current} to ${next} (${reason})`, {
        from: this.current,
        to: next,
      });
    }
    this.log.info({ from: this.current, to: next, reason }, `worker ${next}`);
    this.current = next;
    for (const listener of this.listeners) listener(next);
  }

  onChange(listener: (state: WorkerState) => void): void {
    this.listeners.push(listener);
  }
}

/**
 * Where a task stands: `queued` until the runner first takes it, `running`, `cancelling` once a
 * cancel was asked for and its operations are stopping, then one of the terminal states.
 */
export type TaskState = 'queued' | 'running' | 'cancelling' | TerminalTaskState;
export type TerminalTaskState = 'succeeded' | 'failed' | 'cancelled';

/** Not ended: the runner still has work to do or to wait for. */
export const ACTIVE_TASK_STATES = ['queued', 'running', 'cancelling'] as const satisfies readonly TaskState[];

export function isActiveTaskState(state: string): state is (typeof ACTIVE_TASK_STATES)[number] {
  return (ACTIVE_TASK_STATES as readonly string[]).includes(state);
}

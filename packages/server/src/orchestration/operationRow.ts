import type { Database } from '../store/schema.js';

/** What a new operation's row says beyond these: nothing yet, no outcome, no log, no lease unless given. */
export type NewOperation = Pick<
  Database['operations'],
  | 'id'
  | 'task_id'
  | 'step_index'
  | 'step_name'
  | 'target_id'
  | 'target_name'
  | 'pool_id'
  | 'state'
  | 'payload'
  | 'created_at'
  | 'queued_at'
> &
  Partial<Pick<Database['operations'], 'worker_id' | 'lease_expires_at' | 'leased_at'>>;

/** The row of an operation not yet run, every other column at its start. */
export function newOperationRow(op: NewOperation): Database['operations'] {
  return {
    outcome: null,
    exit_code: null,
    message: null,
    worker_id: null,
    lease_expires_at: null,
    cancel_requested: 0,
    acked_seq: 0,
    last_source: 0,
    progress: null,
    progress_message: null,
    output_variables: null,
    leased_at: null,
    started_at: null,
    script_started_at: null,
    script_pod: null,
    finished_at: null,
    ...op,
  };
}

import type { OperationState } from '@longshore/protocol';
import type { TaskState } from '../orchestration/taskState.js';
import type { Generated } from 'kysely';

/** Row types of the store. JSON columns are TEXT; timestamps are epoch milliseconds. */
export interface Database {
  environments: { id: string; name: string; description: string; created_at: number };
  worker_pools: { id: string; name: string; description: string; is_default: number; created_at: number };
  workers: {
    id: string;
    name: string;
    credential_hash: string;
    executor: string;
    version: string;
    pools: string;
    capacity: number;
    metadata: string;
    disabled: number;
    last_seen_at: number;
    registered_at: number;
  };
  targets: {
    id: string;
    name: string;
    type: string;
    /** JSON array of environment ids (never names: a rename must not orphan the target). */
    environments: string;
    tags: string;
    /** Non-secret settings (JSON): kubernetes apiUrl/namespace/CA, or free properties. */
    properties: string;
    /** Encrypted secret (the Kubernetes token), or null. */
    secret: string | null;
    created_at: number;
  };
  /** process: JSON; a step's runOn.pool is a worker pool id. */
  projects: { id: string; name: string; description: string; process: string; created_at: number; updated_at: number };
  variables: {
    id: string;
    project_id: string;
    position: number;
    name: string;
    /** Plain text, or the encrypted value when sensitive. */
    value: string;
    sensitive: number;
    /** JSON; its environments and targets are ids. */
    scope: string;
  };
  packages: {
    package_id: string;
    version: string;
    format: string;
    size: number;
    sha256: string;
    path: string;
    created_at: number;
  };
  releases: {
    id: string;
    project_id: string;
    version: string;
    /** Encrypted JSON snapshot of process, variables and package versions (it holds secrets). */
    snapshot: string;
    notes: string;
    created_at: number;
  };
  deployments: {
    id: string;
    project_id: string;
    release_id: string;
    environment_id: string;
    task_id: string;
    created_at: number;
  };
  tasks: {
    id: string;
    kind: string;
    description: string;
    state: TaskState;
    current_step: number;
    failed: number;
    cancel_requested: number;
    error: string | null;
    /** Encrypted JSON: output variables gathered so far. */
    context: string;
    log_seq: number;
    created_at: number;
    started_at: number | null;
    completed_at: number | null;
  };
  operations: {
    id: string;
    task_id: string;
    step_index: number;
    step_name: string;
    target_id: string | null;
    target_name: string | null;
    pool_id: string;
    state: OperationState;
    outcome: string | null;
    exit_code: number | null;
    message: string | null;
    worker_id: string | null;
    lease_expires_at: number | null;
    cancel_requested: number;
    /** Encrypted JSON of the protocol Operation. */
    payload: string;
    acked_seq: number;
    last_source: number;
    progress: number | null;
    progress_message: string | null;
    output_variables: string | null;
    created_at: number;
    started_at: number | null;
    finished_at: number | null;
  };
  log_chunks: {
    id: Generated<number>;
    task_id: string;
    operation_id: string | null;
    first_seq: number;
    last_seq: number;
    lines: string;
  };
  registration_tokens: {
    hash: string;
    pools: string;
    worker_name: string | null;
    expires_at: number;
    used_at: number | null;
    created_at: number;
  };
  api_keys: { id: string; name: string; hash: string; created_at: number; last_used_at: number | null };
}

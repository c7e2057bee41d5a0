import type { OperationState, UnavailableWorkerAction, WorkerHealth, WorkerUpdates } from '@longshore/protocol';
import type { TaskState } from '../orchestration/taskState.js';
import type { Generated } from 'kysely';

/** Row types of the store. JSON columns are TEXT; timestamps are epoch milliseconds. */
export interface Database {
  environments: { id: string; name: string; description: string; created_at: number };
  worker_pools: {
    id: string;
    name: string;
    description: string;
    is_default: number;
    /** Null: the default machine policy. */
    machine_policy_id: string | null;
    created_at: number;
  };
  machine_policies: {
    id: string;
    name: string;
    description: string;
    health_check_interval_seconds: number;
    health_check_timeout_seconds: number;
    unavailable_action: UnavailableWorkerAction;
    /** With unavailable_action 'delete': how long a worker may stay unavailable before it is removed. */
    delete_after_hours: number | null;
    updates: WorkerUpdates;
    is_default: number;
    created_at: number;
  };
  /** A health check of one worker; its log is the task's. */
  health_checks: {
    id: string;
    worker_id: string;
    task_id: string;
    state: 'pending' | 'sent' | 'finished';
    timeout_seconds: number;
    requested_at: number;
    /** When a poll answer carried it to the worker; the deadline runs from then. */
    sent_at: number | null;
    deadline_at: number | null;
    finished_at: number | null;
  };
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
    /** Null: its pool's policy, else the default one. */
    machine_policy_id: string | null;
    health: Generated<WorkerHealth>;
    /** JSON array of strings: why the last check found it unhealthy or unavailable. */
    health_reasons: Generated<string>;
    /** JSON object of strings: what the last check measured (HealthReport.facts). */
    health_facts: Generated<string>;
    health_checked_at: number | null;
    /** The task of the check that set its health: its log has what each check found. */
    health_check_task_id: string | null;
    /** Set when it said it stopped cleanly; cleared by its next poll. */
    offline_at: number | null;
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
    /** The server node that advances it while it runs (see cluster/taskLeases.ts). */
    owner_node_id: Generated<string | null>;
    owner_lease_expires_at: Generated<number | null>;
    /** Another node asked the owner to advance it (an operation's result reached that node). */
    advance_requested: Generated<number>;
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
    /** When it was queued for a worker; null while waiting (and in stores from before it was kept). */
    queued_at: number | null;
    /** When the first log line came (the operation began running on its worker). */
    started_at: number | null;
    /** When a worker last took it. */
    leased_at: number | null;
    /** When the script began on its worker (after a pending pod, packages); null before, and for operations that never ran. */
    script_started_at: number | null;
    /** The Kubernetes pod its script runs in, as its worker reported it. */
    script_pod: string | null;
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
  api_keys: {
    id: string;
    name: string;
    hash: string;
    created_at: number;
    last_used_at: number | null;
    /** Whose key it is: it can do at most what they may. Null only in a store from before users, until the first start assigns them. */
    user_id: string | null;
    expires_at: number | null;
    revoked_at: number | null;
    /** JSON array narrowing the user's permissions; null for all of them. */
    permissions: string | null;
  };
  users: {
    id: string;
    /** The user name people sign in with; unique by the name rule. */
    name: string;
    display_name: string;
    email: string | null;
    /** scrypt, see passwords.ts; null for a user who signs in only through OpenID Connect. */
    password_hash: string | null;
    oidc_issuer: string | null;
    oidc_subject: string | null;
    disabled: number;
    failed_sign_ins: number;
    locked_until: number | null;
    last_sign_in_at: number | null;
    created_at: number;
  };
  teams: { id: string; name: string; description: string; created_at: number };
  team_members: { team_id: string; user_id: string };
  /** Built-in roles are rows too (so grants refer to them by id) but their permissions come from the code. */
  roles: { id: string; name: string; description: string; permissions: string; built_in: number; created_at: number };
  /** A role a team holds, for all projects and environments (null) or for those listed (JSON arrays of ids). */
  team_roles: { id: string; team_id: string; role_id: string; projects: string | null; environments: string | null };
  /** What a deployment's operation used (right-sizing): one row per operation that reported usage. */
  operation_usage: {
    operation_id: string;
    project_id: string;
    step_name: string;
    pool_id: string;
    recorded_at: number;
    samples: number;
    peak_cpu_millis: number;
    mean_cpu_millis: number;
    peak_memory_bytes: number;
    duration_seconds: number;
    request_cpu_millis: number | null;
    request_memory_bytes: number | null;
    limit_cpu_millis: number | null;
    limit_memory_bytes: number | null;
    oom_killed: number;
    throttled: number;
  };
  /** Append-only (a trigger refuses updates); rows leave only by age (auditRetentionDays). */
  audit_events: {
    id: Generated<number>;
    at: number;
    actor: string;
    actor_user_id: string | null;
    via: string;
    address: string;
    action: string;
    object_kind: string | null;
    object: string | null;
    outcome: string;
    status: number;
    /** JSON: the fields that changed, secrets redacted. */
    changes: string | null;
    /** JSON: the request, or why it was refused. */
    detail: string | null;
  };
  sessions: {
    id: string;
    user_id: string;
    hash: string;
    created_at: number;
    expires_at: number;
    last_seen_at: number;
    address: string;
  };
  /** A single sign-on under way: what the callback checks the provider's answer against (identity/oidcFlows.ts). */
  oidc_sign_ins: {
    /** SHA-256 of the state sent to the provider: reading the table gives no state to send back. */
    state_hash: string;
    nonce: string;
    code_verifier: string;
    /** The portal path the user started from, checked to be one of this server's paths. */
    return_to: string;
    created_at: number;
    expires_at: number;
  };
  /** Where events are sent. */
  webhooks: {
    id: string;
    name: string;
    url: string;
    /** JSON array of the event names it subscribes to. */
    events: string;
    /** The HMAC signing secret, sealed: only the server signs with it, no one reads it back. */
    secret: string;
    enabled: number;
    created_at: number;
  };
  /** One event for one webhook: its body as sent, and how its attempts went. */
  webhook_deliveries: {
    /** The order deliveries were made in (ids are random). */
    seq: Generated<number>;
    id: string;
    webhook_id: string;
    event: string;
    /** The JSON body, byte for byte as every attempt sends it. */
    payload: string;
    state: 'pending' | 'delivered' | 'failed';
    attempts: number;
    /** While pending: when it may be tried next (while an attempt runs, when that attempt is given up for lost). */
    next_attempt_at: number | null;
    last_status: number | null;
    last_error: string | null;
    created_at: number;
    delivered_at: number | null;
  };
  /** One row: an HMAC under the master key, so a node started with another key is refused (startup/masterKeyCheck.ts). */
  master_key_check: {
    id: number;
    digest: string;
    created_at: number;
  };
  /** Package bytes kept in the store (packageStorage database): one row per content, its chunks apart. */
  package_contents: {
    sha256: string;
    /** The write whose chunks hold the bytes; chunks of writes no content names are leftovers. */
    upload_id: string;
    size: number;
    chunk_count: number;
    created_at: number;
  };
  package_chunks: {
    upload_id: string;
    /** From 0, contiguous. */
    seq: number;
    written_at: number;
    data: Buffer;
  };
  /** One row per server process that started on this database; see cluster/serverNodes.ts. */
  server_nodes: {
    id: string;
    name: string;
    url: string;
    version: string;
    started_at: number;
    heartbeat_at: number;
    stopped_at: number | null;
  };
  /** Scheduled work that runs on one node at a time: who holds it, until when (cluster/clusterLeases.ts). */
  cluster_leases: {
    name: string;
    node_id: string;
    expires_at: number;
  };
  /** PostgreSQL only (store/pollWaitersMigration.ts): idle polls with free slots, a row per pool. */
  poll_waiters: {
    waiter_id: string;
    pool_id: string;
    node_id: string;
    worker_id: string;
    free: number;
    since: number;
    /** After this the poll has surely answered: a row left by a node that died. */
    expires_at: number;
  };
}

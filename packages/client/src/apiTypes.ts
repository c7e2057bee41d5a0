import type {
  ExecutionContainer,
  LogLine,
  Resources,
  ScriptSyntax,
  UnavailableWorkerAction,
  WorkerHealth,
  WorkerUpdates,
} from '@longshore/protocol';

/*
 * The shapes of the API's answers and inputs, as /api/openapi.json documents them. The server
 * declares them with its routes, and a client must not load the server to know them:
 * test/api/clientContract.test.ts checks what the client sends and receives against the document.
 */

export type * from './identityTypes.js';

export interface Environment {
  id: string;
  name: string;
  description: string;
  createdAt: string;
}

export interface WorkerPool extends Environment {
  isDefault: boolean;
  /** The machine policy it names; null: the default policy. */
  machinePolicy: string | null;
}

/** A pool's queue and workers, as the dashboard and /metrics show them. */
/** A server node on the store: its heartbeat, and the running tasks it advances (it holds their leases). */
export interface ServerNode {
  id: string;
  name: string;
  url: string;
  version: string;
  startedAt: string;
  lastHeartbeatAt: string;
  /** When it stopped cleanly; null while it runs, or when it died. */
  stoppedAt: string | null;
  alive: boolean;
  tasks: { id: string; kind: string; state: string }[];
}

export interface PoolStatistics {
  pool: string;
  queueDepth: number;
  oldestWaitSeconds: number;
  workersByHealth: Record<'unknown' | 'healthy' | 'unhealthy' | 'unavailable', number>;
  usableWorkers: number;
  /** Operations the usable workers may run at once. */
  capacity: number;
  /** Of that capacity, what they are not using now (a worker in several pools counts in each). */
  freeCapacity: number;
}

export interface WorkerPoolInput extends NamedInput {
  /** A machine policy by name or id; absent: the default policy. */
  machinePolicy?: string;
}

/** How often workers are checked, how long a check may take, what happens to unavailable workers. */
export interface MachinePolicyInput {
  name: string;
  description?: string;
  /** Default 600. */
  healthCheckIntervalSeconds?: number;
  /** Default 60. */
  healthCheckTimeoutSeconds?: number;
  /** Default: keep. With `delete`, `deleteAfterHours` (decimals allowed) is required. */
  unavailableWorkers?: { action: UnavailableWorkerAction; deleteAfterHours?: number };
  /** Default: manual. */
  updates?: WorkerUpdates;
}

export interface MachinePolicy {
  id: string;
  name: string;
  description: string;
  healthCheckIntervalSeconds: number;
  healthCheckTimeoutSeconds: number;
  unavailableWorkers: { action: UnavailableWorkerAction; deleteAfterHours: number | null };
  updates: WorkerUpdates;
  /** The default policy: used by whatever names none; it cannot be deleted. */
  isDefault: boolean;
  createdAt: string;
}

/** A worker's upgrade: its task, whose log has helm's output, or why it was not upgraded (taskId null). */
export interface RequestedUpgrade {
  worker: string;
  taskId: string | null;
  message: string;
}

/** A health check started on demand; its task's log has the results. */
export interface StartedHealthCheck {
  worker: string;
  checkId: string;
  taskId: string;
}

export interface NamedInput {
  name: string;
  description?: string;
}

export interface ScriptStep {
  name: string;
  script: { syntax?: ScriptSyntax; body: string };
  /** A pool by name; per target when `targetTags` is set. */
  runOn?: { pool?: string; targetTags?: string[]; maxParallelism?: number };
  container?: ExecutionContainer;
  /** `auto`: the requests its measured runs recommend (the pool default until there are enough). */
  resources?: Resources | 'auto';
  packages?: { reference?: string; packageId: string; version?: string; kind?: 'archive' | 'docker-image' }[];
  condition?: 'success' | 'always' | 'failure';
  timeoutSeconds?: number;
}

export interface Process {
  steps: ScriptStep[];
}

export interface VariableInput {
  name: string;
  /** Omit for a sensitive variable to keep the value already stored for the same name and scope. */
  value?: string;
  sensitive?: boolean;
  scope?: VariableScope;
}

export interface VariableScope {
  environments?: string[];
  targetTags?: string[];
  targets?: string[];
}

/** A project's variable as answered: a sensitive one's value is never sent back. */
export interface Variable {
  id: string;
  name: string;
  value: string | null;
  sensitive: boolean;
  scope: VariableScope;
}

export interface ProjectInput extends NamedInput {
  process?: Process;
  variables?: VariableInput[];
}

export interface Project {
  id: string;
  name: string;
  description: string;
  process: Process;
  createdAt: string;
  updatedAt: string;
}

export interface TargetInput {
  name: string;
  type: 'kubernetes-cluster' | 'generic';
  environments: string[];
  tags?: string[];
  /** The token is encrypted at rest and never answered; omit it on update to keep the stored one. */
  kubernetes?: { apiUrl: string; namespace: string; token?: string; caCertificate?: string; skipTlsVerify?: boolean };
  properties?: Record<string, string>;
}

export interface Target {
  id: string;
  name: string;
  type: string;
  environments: string[];
  tags: string[];
  kubernetes?: {
    apiUrl: string;
    namespace: string;
    caCertificate?: string;
    skipTlsVerify?: boolean;
    hasToken: boolean;
  };
  properties?: Record<string, string>;
  createdAt: string;
}

/** An operation a worker holds: leased to it, or running there. */
export interface RunningOperation {
  id: string;
  taskId: string;
  /** The task's description, e.g. Deploy Shop 1.0.3 to Production. */
  task: string;
  step: string;
  target: string | null;
  state: 'leased' | 'running';
  /** Null while leased and not yet started. */
  startedAt: string | null;
}

export interface Worker {
  id: string;
  name: string;
  executor: string;
  version: string;
  pools: string[];
  status: 'online' | 'offline';
  disabled: boolean;
  capacity: number;
  running: number;
  /** The operations it holds now, oldest first: `running` of them. */
  runningOperations: RunningOperation[];
  metadata: Record<string, string>;
  lastSeenAt: string;
  registeredAt: string;
  health: WorkerHealth;
  /** Why the last check found it unhealthy or unavailable. */
  healthReasons: string[];
  /** What the last check measured (version, free disk and memory, ...). */
  healthFacts: Record<string, string>;
  lastHealthCheck: string | null;
  /** The task of the check that set its health: its log has what each check found. */
  lastHealthCheckTaskId: string | null;
  /** The policy it follows: its own, else its pool's, else the default. */
  machinePolicy: string;
  /** It runs an older Longshore than the server. */
  upgradeAvailable: boolean;
  /** For a local worker with an upgrade available: how to upgrade it. */
  upgradeCommand: string | null;
}

export interface RegistrationTokenInput {
  /** The pools the worker joins; the default pool when absent. */
  pools?: string[];
  expiresInMinutes?: number;
}

export interface RegistrationToken {
  /** Single-use: a worker registers with it once. */
  token: string;
  pools: string[];
  expiresAt: string;
}

export interface InstallCommandInput {
  pools: string[];
  name?: string;
  namespace?: string;
  /** More chart values, by their dotted key. */
  values?: Record<string, string>;
  expiresInMinutes?: number;
}

export interface InstallCommand {
  /** One line for a shell with helm and access to the cluster. */
  command: string;
  /** The worker is registered already, and its chart kept the credential: the command has no token. */
  reinstall: boolean;
  token?: string;
  expiresAt?: string;
  helm: {
    release: string;
    chart: string;
    version: string;
    namespace: string;
    values: Record<string, string | string[]>;
  };
}

export interface ReleaseInput {
  /** A semantic version; the next patch version when absent. */
  version?: string;
  notes?: string;
}

export interface Release {
  id: string;
  projectId: string;
  projectName: string;
  version: string;
  notes: string;
  steps: string[];
  packages: { step: string; packageId: string; version: string }[];
  createdAt: string;
}

export interface Package {
  packageId: string;
  version: string;
  format: string;
  size: number;
  sha256: string;
  createdAt: string;
}

export interface DeploymentInput {
  /** A project's id or name. */
  project: string;
  /** An environment's id or name. */
  environment: string;
  /** A release version; the newest release (or a new one when there is none) when absent. */
  release?: string;
}

export interface Deployment {
  id: string;
  projectId: string;
  environmentId: string;
  releaseId: string;
  releaseVersion: string;
  taskId: string;
  createdAt: string;
}

export interface TaskOperation {
  id: string;
  target: string | null;
  state: string;
  outcome: string | null;
  exitCode: number | null;
  message: string | null;
  worker: string | null;
  /** The Kubernetes pod its script runs in. */
  scriptPod: string | null;
  progress: number | null;
  progressMessage: string | null;
  createdAt: string;
  /** Its timeline: joined its pool's queue, taken by a worker, first log line, script began, ended. */
  queuedAt: string | null;
  leasedAt: string | null;
  startedAt: string | null;
  scriptStartedAt: string | null;
  finishedAt: string | null;
  /** What the script set; a sensitive one's value is never shown (null). */
  outputVariables: { name: string; value: string | null; sensitive: boolean }[];
}

export interface Task {
  id: string;
  kind: string;
  description: string;
  /** A deployment's project and environment (names); null for other tasks (health checks, upgrades). */
  project: string | null;
  environment: string | null;
  state: string;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  steps: { index: number; name: string; operations: TaskOperation[] }[];
}

/** A line of a task's log: an operation's (with its step and target), or the task's own (operationId null). */
export interface TaskLogLine extends LogLine {
  operationId: string | null;
  step?: string;
  target?: string;
}

export interface TaskLogPage {
  lines: TaskLogLine[];
  /** Pass back as `after` for the next page. */
  cursor: number;
  taskState: string;
  /** The task has ended and this page holds its last line. */
  complete: boolean;
}

export interface ServerInfo {
  version: string;
  /** The URL workers and clients reach the server at. */
  url: string;
  /** What workers pin; null when the server serves plain HTTP. */
  certificateThumbprint: string | null;
}

/** How people may sign in to the portal besides an API key (GET /api/sessions/methods, public). */
export interface SignInMethods {
  /** null when the server has no single sign-on configured. */
  singleSignOn: {
    /** The button's words: Sign in with <provider>. */
    label: string;
    /** Where the button sends the browser, with ?returnTo=<portal path>. */
    startUrl: string;
  } | null;
}

/** Configuration as code (longshore.yaml): everything is created or updated by name, all or nothing. */
export interface ApplyDocument {
  environments?: NamedInput[];
  machinePolicies?: MachinePolicyInput[];
  workerPools?: WorkerPoolInput[];
  /** Settings of registered workers: the machine policy each follows (null: its pool's, else the default). */
  workers?: { name: string; machinePolicy: string | null }[];
  targets?: TargetInput[];
  projects?: ProjectInput[];
}

/** The names `apply` created or updated, by kind. */
export interface ApplyResult {
  environments: string[];
  machinePolicies: string[];
  workerPools: string[];
  workers: string[];
  targets: string[];
  projects: string[];
}

/** One measured run of a step's script pod. CPU in millicores, memory in bytes. */
export interface StepRun {
  operationId: string;
  pool: string;
  recordedAt: string;
  samples: number;
  peakCpuMillis: number;
  meanCpuMillis: number;
  peakMemoryBytes: number;
  durationSeconds: number;
  requests: { cpuMillis: number; memoryBytes: number };
  oomKilled: boolean;
  throttled: boolean;
}

/** A step's usage and the requests recommended from it. */
export interface StepUsage {
  step: string;
  /** Its own resources, `auto`, or null for the pool default. */
  resources: Resources | 'auto' | null;
  runs: StepRun[];
  recommendation: {
    state: 'ready' | 'learning';
    samples: number;
    cpuMillis: number;
    memoryBytes: number;
    memoryLimitBytes?: number;
    method: string;
  };
}

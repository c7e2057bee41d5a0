import type { ExecutionContainer, LogLine, Resources, ScriptSyntax } from '@longshore/protocol';

/*
 * The shapes of the API's answers and inputs, as /api/openapi.json documents them. The server
 * declares them with its routes, and a client must not load the server to know them:
 * test/api/clientContract.test.ts checks what the client sends and receives against the document.
 */

export interface Environment {
  id: string;
  name: string;
  description: string;
  createdAt: string;
}

export interface WorkerPool extends Environment {
  isDefault: boolean;
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
  resources?: Resources;
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
  scope?: { environments?: string[]; targetTags?: string[]; targets?: string[] };
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
  metadata: Record<string, string>;
  lastSeenAt: string;
  registeredAt: string;
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
  progress: number | null;
  progressMessage: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Task {
  id: string;
  kind: string;
  description: string;
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

/** Configuration as code (longshore.yaml): everything is created or updated by name, all or nothing. */
export interface ApplyDocument {
  environments?: NamedInput[];
  workerPools?: NamedInput[];
  targets?: TargetInput[];
  projects?: ProjectInput[];
}

/** The names `apply` created or updated, by kind. */
export interface ApplyResult {
  environments: string[];
  workerPools: string[];
  targets: string[];
  projects: string[];
}

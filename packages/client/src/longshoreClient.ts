import { ApiConnection, type ApiConnectionOptions } from './apiConnection.js';
import type {
  ApplyDocument,
  ApplyResult,
  AuditEvent,
  AuditQuery,
  Deployment,
  DeploymentInput,
  Environment,
  InstallCommand,
  InstallCommandInput,
  MachinePolicy,
  Me,
  MachinePolicyInput,
  Package,
  PoolStatistics,
  Process,
  Project,
  ProjectInput,
  RegistrationToken,
  RegistrationTokenInput,
  Release,
  ReleaseInput,
  RequestedUpgrade,
  ServerInfo,
  ServerNode,
  SignInMethods,
  StartedHealthCheck,
  StepUsage,
  Target,
  Task,
  TaskLogPage,
  Variable,
  VariableInput,
  Worker,
  WorkerPool,
} from './apiTypes.js';
import { ApiKeysApi, RolesApi, SessionsApi, TeamsApi, UsersApi } from './identityApis.js';
import { NamedResourceApi } from './namedResourceApi.js';
import { followTaskLog, type TaskLogHandlers } from './taskLogFollower.js';
import { WebhooksApi } from './webhooksApi.js';

const enc = encodeURIComponent;

export type LongshoreClientOptions = ApiConnectionOptions;

/**
 * The Longshore API, typed: one method per call, over fetch, in Node and the browser alike. A
 * reference (`ref`) is an id or a name. Calls reject with a LongshoreError whose `code` says what
 * went wrong (see ApiConnection), or with the abort reason of the signal a call was given.
 */
export class LongshoreClient {
  readonly #connection: ApiConnection;
  readonly projects: ProjectsApi;
  readonly environments: NamedResourceApi<Environment>;
  readonly workerPools: NamedResourceApi<WorkerPool>;
  readonly targets: NamedResourceApi<Target>;
  readonly workers: WorkersApi;
  readonly machinePolicies: MachinePoliciesApi;
  readonly releases: ReleasesApi;
  readonly packages: PackagesApi;
  readonly deployments: DeploymentsApi;
  readonly tasks: TasksApi;
  readonly webhooks: WebhooksApi;
  readonly sessions: SessionsApi;
  readonly users: UsersApi;
  readonly teams: TeamsApi;
  readonly roles: RolesApi;
  readonly apiKeys: ApiKeysApi;

  constructor(options: LongshoreClientOptions) {
    const connection = new ApiConnection(options);
    this.#connection = connection;
    this.projects = new ProjectsApi(connection, '/api/projects');
    this.environments = new NamedResourceApi(connection, '/api/environments');
    this.workerPools = new NamedResourceApi(connection, '/api/worker-pools');
    this.targets = new NamedResourceApi(connection, '/api/targets');
    this.workers = new WorkersApi(connection, '/api/workers');
    this.machinePolicies = new MachinePoliciesApi(connection, '/api/machine-policies');
    this.releases = new ReleasesApi(connection);
    this.packages = new PackagesApi(connection);
    this.deployments = new DeploymentsApi(connection);
    this.tasks = new TasksApi(connection);
    this.webhooks = new WebhooksApi(connection, '/api/webhooks');
    this.sessions = new SessionsApi(connection);
    this.users = new UsersApi(connection, '/api/users');
    this.teams = new TeamsApi(connection, '/api/teams');
    this.roles = new RolesApi(connection);
    this.apiKeys = new ApiKeysApi(connection);
  }

  /** The server's URL, without a trailing slash. */
  get url(): string {
    return this.#connection.url;
  }

  /** Every pool's queue depth, oldest wait and workers by health. */
  async poolStatistics(signal?: AbortSignal): Promise<PoolStatistics[]> {
    return (
      await this.#connection.json<{ items: PoolStatistics[] }>({ method: 'GET', path: '/api/pool-statistics', signal })
    ).items;
  }

  /** The server nodes sharing the store, alive ones first, with the tasks each advances. */
  async serverNodes(signal?: AbortSignal): Promise<ServerNode[]> {
    return (await this.#connection.json<{ items: ServerNode[] }>({ method: 'GET', path: '/api/server-nodes', signal }))
      .items;
  }

  /** The server's version, URL and certificate thumbprint. */
  serverInfo(signal?: AbortSignal): Promise<ServerInfo> {
    return this.#connection.json({ method: 'GET', path: '/api/server', signal });
  }

  /** How the portal may sign people in; answered without a key. */
  signInMethods(signal?: AbortSignal): Promise<SignInMethods> {
    return this.#connection.json({ method: 'GET', path: '/api/sessions/methods', signal });
  }

  /** Who the credential belongs to, and the roles it carries, with the projects and environments of each. */
  me(signal?: AbortSignal): Promise<Me> {
    return this.#connection.json({ method: 'GET', path: '/api/me', signal });
  }

  /** The audit log, newest first (audit:view); page back with `before`, the last entry's id. */
  async audit(query: AuditQuery = {}, signal?: AbortSignal): Promise<AuditEvent[]> {
    const call = { method: 'GET', path: '/api/audit', query: { ...query }, signal } as const;
    return (await this.#connection.json<{ items: AuditEvent[] }>(call)).items;
  }

  /** Creates or updates what the document names, all or nothing. */
  apply(document: ApplyDocument, signal?: AbortSignal): Promise<ApplyResult> {
    return this.#connection.json({ method: 'POST', path: '/api/apply', json: document, signal });
  }
}

export class WorkersApi extends NamedResourceApi<Worker> {
  /** A disabled worker gets no new operations; the ones it runs finish. */
  disable(ref: string, signal?: AbortSignal): Promise<Worker> {
    return this.connection.json({ method: 'POST', path: `${this.pathOf(ref)}/disable`, signal });
  }

  enable(ref: string, signal?: AbortSignal): Promise<Worker> {
    return this.connection.json({ method: 'POST', path: `${this.pathOf(ref)}/enable`, signal });
  }

  async delete(ref: string, signal?: AbortSignal): Promise<void> {
    await this.connection.json({ method: 'DELETE', path: this.pathOf(ref), signal });
  }

  /** Starts a health check of the worker (or answers the one under way); its task's log has the results. */
  check(ref: string, signal?: AbortSignal): Promise<StartedHealthCheck> {
    return this.connection.json({ method: 'POST', path: `${this.pathOf(ref)}/health-checks`, signal });
  }

  /** Upgrades a Kubernetes worker to what the server ships (or answers the upgrade under way); its task's log has helm's output. */
  upgrade(ref: string, signal?: AbortSignal): Promise<RequestedUpgrade> {
    return this.connection.json({ method: 'POST', path: `${this.pathOf(ref)}/upgrades`, signal });
  }

  /** Upgrades every enabled worker that is behind and that the server can upgrade; says for each what was done or why not. */
  async upgradeAll(signal?: AbortSignal): Promise<RequestedUpgrade[]> {
    const path = `${this.path}/upgrades`;
    return (await this.connection.json<{ items: RequestedUpgrade[] }>({ method: 'POST', path, signal })).items;
  }

  /** Starts a health check of every enabled worker. */
  async checkAll(signal?: AbortSignal): Promise<StartedHealthCheck[]> {
    const path = `${this.path}/health-checks`;
    return (await this.connection.json<{ items: StartedHealthCheck[] }>({ method: 'POST', path, signal })).items;
  }

  /** Makes the worker follow a machine policy; null: its pool's, else the default. */
  setMachinePolicy(ref: string, machinePolicy: string | null, signal?: AbortSignal): Promise<Worker> {
    const path = `${this.pathOf(ref)}/machine-policy`;
    return this.connection.json({ method: 'PUT', path, json: { machinePolicy }, signal });
  }

  /** A single-use token a new worker registers with. */
  createRegistrationToken(input: RegistrationTokenInput = {}, signal?: AbortSignal): Promise<RegistrationToken> {
    return this.connection.json({ method: 'POST', path: '/api/registration-tokens', json: input, signal });
  }

  /** The helm command that installs a Kubernetes worker, with a fresh registration token. */
  installCommand(input: InstallCommandInput, signal?: AbortSignal): Promise<InstallCommand> {
    return this.connection.json({ method: 'POST', path: `${this.path}/install-command`, json: input, signal });
  }
}

export class ProjectsApi extends NamedResourceApi<Project> {
  /** Creates a project with its process and variables; CONFLICT when the name is taken. */
  create(input: ProjectInput, signal?: AbortSignal): Promise<Project> {
    return this.connection.json({ method: 'POST', path: this.path, json: input, signal });
  }

  /** Replaces the project's deployment process, all or nothing; the next release takes it. */
  updateProcess(ref: string, process: Process, signal?: AbortSignal): Promise<Project> {
    return this.connection.json({ method: 'PUT', path: `${this.pathOf(ref)}/process`, json: process, signal });
  }

  /** The project's variables; a sensitive one's value is null (it is never answered). */
  async variables(ref: string, signal?: AbortSignal): Promise<Variable[]> {
    const path = `${this.pathOf(ref)}/variables`;
    return (await this.connection.json<{ items: Variable[] }>({ method: 'GET', path, signal })).items;
  }

  /** Replaces the project's variables, all or nothing; a sensitive one without a value keeps the stored one. */
  async setVariables(ref: string, variables: VariableInput[], signal?: AbortSignal): Promise<void> {
    await this.connection.json({ method: 'PUT', path: `${this.pathOf(ref)}/variables`, json: variables, signal });
  }

  /** Each step's measured CPU and memory, beside what it requests and what it should (right-sizing). */
  async stepUsage(ref: string, signal?: AbortSignal): Promise<StepUsage[]> {
    const path = `${this.pathOf(ref)}/steps/usage`;
    return (await this.connection.json<{ items: StepUsage[] }>({ method: 'GET', path, signal })).items;
  }
}

export class MachinePoliciesApi extends NamedResourceApi<MachinePolicy> {
  create(input: MachinePolicyInput, signal?: AbortSignal): Promise<MachinePolicy> {
    return this.connection.json({ method: 'POST', path: this.path, json: input, signal });
  }

  /** Replaces the policy: what the input leaves out takes its default. */
  update(ref: string, input: MachinePolicyInput, signal?: AbortSignal): Promise<MachinePolicy> {
    return this.connection.json({ method: 'PUT', path: this.pathOf(ref), json: input, signal });
  }

  /** CONFLICT for the default policy and for one a worker or pool names. */
  async delete(ref: string, signal?: AbortSignal): Promise<void> {
    await this.connection.json({ method: 'DELETE', path: this.pathOf(ref), signal });
  }
}

export class ReleasesApi {
  constructor(private readonly connection: ApiConnection) {}

  /** A project's releases, newest first. */
  async list(project: string, signal?: AbortSignal): Promise<Release[]> {
    const path = `/api/projects/${enc(project)}/releases`;
    return (await this.connection.json<{ items: Release[] }>({ method: 'GET', path, signal })).items;
  }

  /** Snapshots the project's process and variables, with the versions of its packages. */
  create(project: string, input: ReleaseInput = {}, signal?: AbortSignal): Promise<Release> {
    return this.connection.json({
      method: 'POST',
      path: `/api/projects/${enc(project)}/releases`,
      json: input,
      signal,
    });
  }
}

/** What the server takes a package's archive as; it tells .tar.gz from .zip by the content. */
export type ArchiveContentType =
  'application/octet-stream' | 'application/gzip' | 'application/x-gzip' | 'application/zip' | 'application/x-tar';

export class PackagesApi {
  constructor(private readonly connection: ApiConnection) {}

  async list(signal?: AbortSignal): Promise<Package[]> {
    return (await this.connection.json<{ items: Package[] }>({ method: 'GET', path: '/api/packages', signal })).items;
  }

  /** Uploads a .tar.gz or .zip archive to the built-in feed. */
  push(
    packageId: string,
    version: string,
    content: Uint8Array | Blob,
    contentType: ArchiveContentType = 'application/octet-stream',
    signal?: AbortSignal,
  ): Promise<Package> {
    return this.connection.json({
      method: 'POST',
      path: `/api/packages/${enc(packageId)}/${enc(version)}`,
      bytes: { content, contentType },
      signal,
    });
  }
}

export class DeploymentsApi {
  constructor(private readonly connection: ApiConnection) {}

  /** Deployments, newest first; of one project when given. */
  async list(filter: { project?: string } = {}, signal?: AbortSignal): Promise<Deployment[]> {
    const call = { method: 'GET', path: '/api/deployments', query: { project: filter.project }, signal } as const;
    return (await this.connection.json<{ items: Deployment[] }>(call)).items;
  }

  /** Starts a deployment; its task (`taskId`) runs it. */
  create(input: DeploymentInput, signal?: AbortSignal): Promise<Deployment> {
    return this.connection.json({ method: 'POST', path: '/api/deployments', json: input, signal });
  }
}

export class TasksApi {
  constructor(private readonly connection: ApiConnection) {}

  /** The newest tasks first, optionally only those in one state. */
  async list(filter: { state?: string } = {}, signal?: AbortSignal): Promise<Task[]> {
    const call = { method: 'GET', path: '/api/tasks', query: { state: filter.state }, signal } as const;
    return (await this.connection.json<{ items: Task[] }>(call)).items;
  }

  get(id: string, signal?: AbortSignal): Promise<Task> {
    return this.connection.json({ method: 'GET', path: `/api/tasks/${enc(id)}`, signal });
  }

  /** Cancels a task that has not ended; CONFLICT when it has. */
  cancel(id: string, signal?: AbortSignal): Promise<Task> {
    return this.connection.json({ method: 'POST', path: `/api/tasks/${enc(id)}/cancel`, signal });
  }

  /** A page of the task's log from `after` (the previous page's cursor; 0 first); empty when there is no more yet. */
  logPage(id: string, after = 0, signal?: AbortSignal): Promise<TaskLogPage> {
    return this.connection.json({ method: 'GET', path: `/api/tasks/${enc(id)}/log`, query: { after }, signal });
  }

  /** Follows the task's log until the task ends; answers its final state. */
  follow(id: string, handlers: TaskLogHandlers, signal?: AbortSignal): Promise<string> {
    return followTaskLog(this.connection, id, handlers, signal);
  }
}

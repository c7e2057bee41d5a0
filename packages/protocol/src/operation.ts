import { Type, type Static } from '@sinclair/typebox';
import { NON_NEGATIVE_QUANTITY_PATTERN } from './quantity.js';

export const Outcome = Type.Union([
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
  Type.Literal('timed_out'),
  /** The process, pod or worker vanished under a running operation. */
  Type.Literal('lost'),
  /** The worker cannot run it at all (e.g. it needs Docker); nothing was started. */
  Type.Literal('rejected'),
]);
export type Outcome = Static<typeof Outcome>;

/**
 * Where an operation stands on the server: `waiting` for room under its step's maxParallelism,
 * `queued` for a worker of its pool, `leased` to a worker that has not yet reported it started,
 * `running` there, `finished` with an outcome.
 */
export const OperationState = Type.Union([
  Type.Literal('waiting'),
  Type.Literal('queued'),
  Type.Literal('leased'),
  Type.Literal('running'),
  Type.Literal('finished'),
]);
export type OperationState = Static<typeof OperationState>;

/** Held by a worker: its lease is renewed by the worker's polls, and a cancel must reach the worker. */
export const ACTIVE_OPERATION_STATES = ['leased', 'running'] as const satisfies readonly OperationState[];
/** Not given to any worker yet: a cancel ends these at once. */
export const PENDING_OPERATION_STATES = ['waiting', 'queued'] as const satisfies readonly OperationState[];
/** Counted against a step's maxParallelism: queued for a worker or held by one. */
export const IN_FLIGHT_OPERATION_STATES = ['queued', 'leased', 'running'] as const satisfies readonly OperationState[];

export function isActiveOperationState(state: string): state is (typeof ACTIVE_OPERATION_STATES)[number] {
  return (ACTIVE_OPERATION_STATES as readonly string[]).includes(state);
}

export const ScriptSyntax = Type.Union([Type.Literal('sh'), Type.Literal('bash')]);
export type ScriptSyntax = Static<typeof ScriptSyntax>;

/** Kubernetes quantity, e.g. `500m`, `2`, `1.5Gi`, `100u`. */
export const Quantity = Type.String({
  pattern: NON_NEGATIVE_QUANTITY_PATTERN,
  maxLength: 64,
  description: 'A Kubernetes quantity such as 500m, 2, 512Mi',
});

export const ResourceList = Type.Object(
  { cpu: Type.Optional(Quantity), memory: Type.Optional(Quantity), 'ephemeral-storage': Type.Optional(Quantity) },
  { additionalProperties: false },
);
export type ResourceList = Static<typeof ResourceList>;
export const RESOURCE_NAMES = ['cpu', 'memory', 'ephemeral-storage'] as const satisfies readonly (keyof ResourceList)[];

export const Resources = Type.Object(
  { requests: Type.Optional(ResourceList), limits: Type.Optional(ResourceList) },
  { additionalProperties: false },
);
export type Resources = Static<typeof Resources>;

/**
 * Where a step's script runs inside a container. `image` is a ready image; `dockerfile` is an
 * inline execution container that must be built first, which needs Docker.
 */
export const ExecutionContainer = Type.Object(
  {
    image: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    dockerfile: Type.Optional(Type.String({ minLength: 1, maxLength: 65536 })),
  },
  { additionalProperties: false },
);
export type ExecutionContainer = Static<typeof ExecutionContainer>;

export const OperationVariable = Type.Object({
  name: Type.String(),
  value: Type.String(),
  sensitive: Type.Boolean(),
});
export type OperationVariable = Static<typeof OperationVariable>;

export const OperationPackage = Type.Object({
  /** The name the step refers to it by; extracted under `packages/<reference>`. */
  reference: Type.String(),
  packageId: Type.String(),
  version: Type.String(),
  format: Type.Union([Type.Literal('tar.gz'), Type.Literal('zip'), Type.Literal('docker-image')]),
  sha256: Type.String(),
  /** Path on the server, relative to its URL, fetched with the worker's credential. */
  downloadPath: Type.String(),
});
export type OperationPackage = Static<typeof OperationPackage>;

export const KubernetesTarget = Type.Object({
  apiUrl: Type.String(),
  namespace: Type.String(),
  token: Type.String(),
  caCertificate: Type.Optional(Type.String()),
  skipTlsVerify: Type.Optional(Type.Boolean()),
});
export type KubernetesTarget = Static<typeof KubernetesTarget>;

export const OperationTarget = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.Union([Type.Literal('kubernetes-cluster'), Type.Literal('generic')]),
  kubernetes: Type.Optional(KubernetesTarget),
});
export type OperationTarget = Static<typeof OperationTarget>;

/** Everything a worker needs to run one step for one target; nothing to fetch later but packages. */
export const Operation = Type.Object({
  id: Type.String({ format: 'uuid' }),
  taskId: Type.String(),
  step: Type.Object({ index: Type.Integer(), name: Type.String() }),
  target: Type.Optional(OperationTarget),
  script: Type.Object({ syntax: ScriptSyntax, body: Type.String() }),
  variables: Type.Array(OperationVariable),
  packages: Type.Array(OperationPackage),
  container: Type.Optional(ExecutionContainer),
  resources: Type.Optional(Resources),
  /** The resources are the server's recommendation for a step set to `auto`: held to the worker's maxAllowed, never refused for it. */
  resourcesAuto: Type.Optional(Type.Boolean()),
  timeoutSeconds: Type.Integer({ minimum: 1 }),
  /**
   * `worker-upgrade`: the server's upgrade of the Kubernetes worker that runs it. Its script pod
   * runs under the chart's upgrader ServiceAccount and outlives the worker it replaces: a stopping
   * worker leaves it running for its successor to resume, instead of draining it.
   */
  purpose: Type.Optional(Type.Literal('worker-upgrade')),
});
export type Operation = Static<typeof Operation>;

export const OutputVariable = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256 }),
  value: Type.String(),
  sensitive: Type.Boolean(),
});
export type OutputVariable = Static<typeof OutputVariable>;

const Millis = Type.Integer({ minimum: 0, description: 'CPU in millicores' });
const Bytes = Type.Integer({ minimum: 0 });

/**
 * What a script pod used, sampled from metrics.k8s.io while it ran, beside what it asked for: the
 * server learns each step's real needs from it (right-sizing). CPU in millicores, memory in bytes.
 */
export const ResourceUsage = Type.Object(
  {
    samples: Type.Integer({ minimum: 0 }),
    peakCpuMillis: Millis,
    meanCpuMillis: Millis,
    peakMemoryBytes: Bytes,
    durationSeconds: Type.Number({ minimum: 0 }),
    requests: Type.Object({ cpuMillis: Type.Optional(Millis), memoryBytes: Type.Optional(Bytes) }),
    limits: Type.Object({ cpuMillis: Type.Optional(Millis), memoryBytes: Type.Optional(Bytes) }),
    oomKilled: Type.Boolean(),
    /** Its CPU use reached its CPU limit: it may have run slower than it would have. */
    throttled: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ResourceUsage = Static<typeof ResourceUsage>;

export const OperationResult = Type.Object({
  outcome: Outcome,
  exitCode: Type.Optional(Type.Integer()),
  message: Type.String({ maxLength: 4096 }),
  outputVariables: Type.Array(OutputVariable, { maxItems: 1000 }),
  usage: Type.Optional(ResourceUsage),
});
export type OperationResult = Static<typeof OperationResult>;

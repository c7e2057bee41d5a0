import { Type, type Static } from '@sinclair/typebox';
import { LogLine } from './logLine.js';
import { Operation, OperationResult } from './operation.js';
import { pathTemplate } from './pathTemplate.js';
import { HealthCheckRequest } from './workerHealth.js';

/**
 * The worker's side of the channel: plain HTTPS calls that the worker always makes outbound
 * (a cluster needs no inbound port). `poll` is a long-poll that doubles as the heartbeat. The
 * paths with parameters are templates: the server registers `.template`, the worker calls them.
 */
export const agentRoutes = {
  register: '/api/agent/register',
  /** PUT at every start: what the worker is now (a chart upgrade changes its version, capacity and metadata). */
  workerInfo: '/api/agent/worker',
  poll: '/api/agent/poll',
  logs: pathTemplate('/api/agent/operations/:id/logs'),
  complete: pathTemplate('/api/agent/operations/:id/complete'),
  operationState: pathTemplate('/api/agent/operations/:id'),
  packageToken: pathTemplate('/api/agent/operations/:id/package-token'),
  packageContent: pathTemplate('/api/agent/packages/:packageId/:version/content'),
  /** The worker chart archive (.tgz) the server upgrades Kubernetes workers with; a worker-upgrade operation's package. */
  workerChart: pathTemplate('/api/agent/worker-chart/:version'),
  /** POST a HealthReport for a HealthCheckRequest the worker was given. */
  healthReport: pathTemplate('/api/agent/health-checks/:id'),
  /** POST when the worker stops cleanly: it is offline at once, not after the heartbeat window. */
  offline: '/api/agent/worker/offline',
} as const;

export const ExecutorKind = Type.Union([Type.Literal('local'), Type.Literal('kubernetes')]);
export type ExecutorKind = Static<typeof ExecutorKind>;

export const WorkerName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });

/** Kubernetes workers say namespace, clusterVersion and chartVersion here. */
export const WorkerMetadata = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }), {
  maxProperties: 32,
});

export const RegisterRequest = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    name: WorkerName,
    executor: ExecutorKind,
    version: Type.String({ maxLength: 64 }),
    capacity: Type.Integer({ minimum: 1, maximum: 10000 }),
    metadata: Type.Optional(WorkerMetadata),
  },
  { additionalProperties: false },
);
export type RegisterRequest = Static<typeof RegisterRequest>;

export const WorkerInfoRequest = Type.Object(
  {
    version: Type.String({ maxLength: 64 }),
    capacity: Type.Integer({ minimum: 1, maximum: 10000 }),
    metadata: WorkerMetadata,
  },
  { additionalProperties: false },
);
export type WorkerInfoRequest = Static<typeof WorkerInfoRequest>;

export const RegisterResponse = Type.Object({
  workerId: Type.String(),
  credential: Type.String(),
  pools: Type.Array(Type.String()),
});
export type RegisterResponse = Static<typeof RegisterResponse>;

export const PollRequest = Type.Object(
  {
    /** How many more operations this worker will take now. */
    free: Type.Integer({ minimum: 0, maximum: 10000 }),
    /** Operations the worker holds; their leases are renewed, the rest it was given are re-sent. */
    running: Type.Array(Type.String(), { maxItems: 10000 }),
    /** How long the server may hold the request open when there is nothing to do. */
    waitMs: Type.Integer({ minimum: 0, maximum: 60000 }),
  },
  { additionalProperties: false },
);
export type PollRequest = Static<typeof PollRequest>;

export const PollResponse = Type.Object({
  operations: Type.Array(Operation),
  /** Operations the worker holds that must be stopped now. */
  cancel: Type.Array(Type.String()),
  /** Operations the worker reported running that the server no longer expects it to run. */
  forget: Type.Array(Type.String()),
  /** Health checks to run now and report (absent from servers that predate them). */
  healthChecks: Type.Optional(Type.Array(HealthCheckRequest)),
});
export type PollResponse = Static<typeof PollResponse>;

export const LogBatchRequest = Type.Object(
  {
    lines: Type.Array(LogLine, { maxItems: 20000 }),
    progress: Type.Optional(
      Type.Object({
        percentage: Type.Integer({ minimum: 0, maximum: 100 }),
        message: Type.String({ maxLength: 1024 }),
      }),
    ),
    /** When the script itself began (epoch ms), after what kept it waiting: a slot, a node, an image pull. */
    scriptStartedAt: Type.Optional(Type.Integer({ minimum: 0 })),
    /** The Kubernetes pod the script runs in, once it exists. */
    scriptPod: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
  },
  { additionalProperties: false },
);
export type LogBatchRequest = Static<typeof LogBatchRequest>;

/** `ackedSeq`: every line up to it is stored; the worker may drop them. */
export const LogBatchResponse = Type.Object({
  ackedSeq: Type.Integer(),
  lastSource: Type.Integer(),
  cancelRequested: Type.Boolean(),
});
export type LogBatchResponse = Static<typeof LogBatchResponse>;

export const CompleteRequest = Type.Composite(
  [OperationResult, Type.Object({ finalSeq: Type.Integer({ minimum: 0 }) })],
  {
    additionalProperties: false,
  },
);
export type CompleteRequest = Static<typeof CompleteRequest>;

/** What a restarted worker needs to resume an operation it finds still running. */
export const OperationStateResponse = Type.Object({
  id: Type.String(),
  state: Type.Union([
    Type.Literal('queued'),
    Type.Literal('leased'),
    Type.Literal('running'),
    Type.Literal('finished'),
    Type.Literal('unknown'),
  ]),
  ackedSeq: Type.Integer(),
  lastSource: Type.Integer(),
  cancelRequested: Type.Boolean(),
  /** While this worker holds the operation (leased or running): what a restarted worker needs to finish it. */
  operation: Type.Optional(Operation),
});
export type OperationStateResponse = Static<typeof OperationStateResponse>;

/**
 * A credential for one operation's packages only: its bearer may download exactly the packages
 * of that operation's payload, until `expiresAt` or the end of the operation, whichever comes
 * first. A script pod's init container downloads with it instead of the worker's own credential.
 */
export const PackageTokenResponse = Type.Object({
  token: Type.String(),
  /** ISO 8601. */
  expiresAt: Type.String(),
});
export type PackageTokenResponse = Static<typeof PackageTokenResponse>;

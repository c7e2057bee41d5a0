import { Type, type Static } from '@sinclair/typebox';

/**
 * A worker's health as its last check found it: `unknown` until one ran, `unavailable` when it did
 * not answer within the check's timeout (or stopped). Only a `healthy` or `unknown` worker is
 * given new operations.
 */
export const WorkerHealth = Type.Union([
  Type.Literal('unknown'),
  Type.Literal('healthy'),
  Type.Literal('unhealthy'),
  Type.Literal('unavailable'),
]);
export type WorkerHealth = Static<typeof WorkerHealth>;

/** One thing a health check looked at, e.g. `pods/create in namespace longshore`; `detail` says what it found. */
export const HealthCheckResult = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  ok: Type.Boolean(),
  detail: Type.String({ maxLength: 4096 }),
});
export type HealthCheckResult = Static<typeof HealthCheckResult>;

/** A health check the server asks a worker to run (in a poll answer); the report goes to agentRoutes.healthReport. */
export const HealthCheckRequest = Type.Object({
  id: Type.String(),
  timeoutSeconds: Type.Integer({ minimum: 1 }),
});
export type HealthCheckRequest = Static<typeof HealthCheckRequest>;

/**
 * What the worker found. `facts` are what it measured, shown with the worker (version,
 * freeDiskBytes, freeMemoryBytes; a Kubernetes worker also apiServerVersion, chartVersion,
 * allocatableCpu, allocatableMemory).
 */
export const HealthReport = Type.Object(
  {
    checks: Type.Array(HealthCheckResult, { maxItems: 200 }),
    facts: Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }), { maxProperties: 32 }),
  },
  { additionalProperties: false },
);
export type HealthReport = Static<typeof HealthReport>;

/** What a machine policy does with a worker once it is unavailable. */
export const UnavailableWorkerAction = Type.Union([Type.Literal('keep'), Type.Literal('delete')]);
export type UnavailableWorkerAction = Static<typeof UnavailableWorkerAction>;

/** `automatic`: upgrade once a health check finds the worker behind the server's version. */
export const WorkerUpdates = Type.Union([Type.Literal('automatic'), Type.Literal('manual'), Type.Literal('never')]);
export type WorkerUpdates = Static<typeof WorkerUpdates>;

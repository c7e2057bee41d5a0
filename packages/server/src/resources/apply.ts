import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError, isLongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { Name, inTransaction, lookUpByRef } from './common.js';
import { duplicateNameProblems, nameKey, normaliseName } from './names.js';
import { MachinePolicyInput, upsertMachinePolicy } from './machinePolicies.js';
import { NamedInput, WorkerPoolInput, upsertNamed } from './namedResources.js';
import { ProjectInput, upsertProject } from './projects.js';
import { TargetInput, upsertTarget } from './targets.js';
import { setWorkerPolicy } from './workers.js';
import { refuseProblems } from './references.js';

/** What config as code sets on a registered worker: the machine policy it follows (null: its pool's, else the default). */
const WorkerSettings = Type.Object(
  { name: Name, machinePolicy: Type.Union([Name, Type.Null()]) },
  { additionalProperties: false },
);

/**
 * Configuration as code: the document users keep in git (`longshore apply -f longshore.yaml`).
 * Everything is created or updated by name in one transaction: all of it applies, or none.
 */
export const ApplyDocument = Type.Object(
  {
    environments: Type.Optional(Type.Array(NamedInput, { maxItems: 500 })),
    machinePolicies: Type.Optional(Type.Array(MachinePolicyInput, { maxItems: 100 })),
    workerPools: Type.Optional(Type.Array(WorkerPoolInput, { maxItems: 500 })),
    workers: Type.Optional(Type.Array(WorkerSettings, { maxItems: 1000 })),
    targets: Type.Optional(Type.Array(TargetInput, { maxItems: 1000 })),
    projects: Type.Optional(Type.Array(ProjectInput, { maxItems: 500 })),
  },
  { additionalProperties: false },
);
export type ApplyDocument = Static<typeof ApplyDocument>;

const ApplyResult = Type.Object({
  environments: Type.Array(Type.String()),
  machinePolicies: Type.Array(Type.String()),
  workerPools: Type.Array(Type.String()),
  workers: Type.Array(Type.String()),
  targets: Type.Array(Type.String()),
  projects: Type.Array(Type.String()),
});

/** A name twice in one list would make the last one win silently; the document is refused instead. */
function duplicateProblems(doc: ApplyDocument): string[] {
  const byName = (item: { name: string }) => nameKey(item.name);
  const named = (item: { name: string }) => item.name;
  return [
    ...duplicateNameProblems('environments', doc.environments ?? [], byName, named),
    ...duplicateNameProblems('machinePolicies', doc.machinePolicies ?? [], byName, named),
    ...duplicateNameProblems('workerPools', doc.workerPools ?? [], byName, named),
    ...duplicateNameProblems('workers', doc.workers ?? [], byName, named),
    ...duplicateNameProblems('targets', doc.targets ?? [], byName, named),
    ...duplicateNameProblems('projects', doc.projects ?? [], byName, named),
  ];
}

export async function applyRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/apply',
    { schema: { tags: ['apply'], body: ApplyDocument, response: { 200: ApplyResult } } },
    async (req) => {
      const doc = req.body;
      const problems = duplicateProblems(doc);
      refuseProblems(problems);
      return inTransaction(ctx, async (tx) => {
        for (const e of doc.environments ?? []) await upsertNamed(tx, 'environments', e);
        for (const [i, m] of (doc.machinePolicies ?? []).entries())
          await inPart(`machinePolicies[${i}] '${m.name}'`, () => upsertMachinePolicy(tx, m));
        for (const [i, p] of (doc.workerPools ?? []).entries())
          await inPart(`workerPools[${i}] '${p.name}'`, () => upsertNamed(tx, 'worker_pools', p));
        for (const [i, w] of (doc.workers ?? []).entries())
          await inPart(`workers[${i}] '${w.name}'`, () => setRegisteredWorkerPolicy(tx, w.name, w.machinePolicy));
        for (const [i, t] of (doc.targets ?? []).entries()) await inPart(`targets[${i}]`, () => upsertTarget(tx, t));
        for (const [i, p] of (doc.projects ?? []).entries())
          await inPart(`projects[${i}] '${p.name}'`, () => upsertProject(tx, p));
        const names = (items: { name: string }[] | undefined) => (items ?? []).map((i) => normaliseName(i.name));
        return {
          environments: names(doc.environments),
          machinePolicies: names(doc.machinePolicies),
          workerPools: names(doc.workerPools),
          workers: names(doc.workers),
          targets: names(doc.targets),
          projects: names(doc.projects),
        };
      });
    },
  );
}

/** A worker registers itself: the document can only set what it follows, and names no one else. */
async function setRegisteredWorkerPolicy(ctx: ServerContext, name: string, policy: string | null): Promise<void> {
  if (!(await lookUpByRef(ctx.db, 'workers', name)))
    throw new LongshoreError(
      'VALIDATION_FAILED',
      `no worker named '${name}' is registered; workers register themselves, and apply sets only their machine policy`,
    );
  await setWorkerPolicy(ctx, name, policy);
}

/** Says which part of the document a problem is in: a project's own messages say only `variables[2]`. */
async function inPart<T>(where: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (isLongshoreError(e)) throw new LongshoreError(e.code, `${where}: ${e.message}`, e.details);
    throw e;
  }
}

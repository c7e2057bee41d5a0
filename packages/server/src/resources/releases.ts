import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError, agentRoutes, type OperationPackage } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import type { Database } from '../store/schema.js';
import { newId } from '../crypto/tokens.js';
import { ListOf, RefParams, findByRef, iso, now, uniquely } from './common.js';
import { loadVariables, type StoredVariable } from './projects.js';
import type { Process } from './processSchema.js';
import { SEMVER_PATTERN, compareSemver, newestVersion, parseSemver } from './semver.js';

/**
 * What a release freezes. Sealed at rest: it holds sensitive variable values.
 *
 * It freezes what runs (scripts, values, package versions), not the names of what it runs on:
 * steps' worker pools and variables' scope environments and targets are held by id, as the
 * project holds them, so renaming a pool, an environment or a target after the release changes
 * nothing about where and with which values it deploys. (A release cannot be rewritten, so one
 * made before references were by id keeps names, matched against the current names.)
 */
export interface ReleaseSnapshot {
  projectId: string;
  projectName: string;
  process: Process;
  variables: StoredVariable[];
  /** Per step index, the packages with the versions chosen when the release was made. */
  stepPackages: OperationPackage[][];
  /** 'ids' in every release made since references became ids; absent in older ones, which hold names. */
  references?: 'ids';
}

export const ReleaseInput = Type.Object(
  {
    version: Type.Optional(
      Type.String({
        maxLength: 100,
        pattern: SEMVER_PATTERN,
        description: 'a semantic version (e.g. 1.2.3); default: the newest one with its patch number raised',
      }),
    ),
    notes: Type.Optional(Type.String({ maxLength: 10000 })),
  },
  { additionalProperties: false },
);

const Release = Type.Object({
  id: Type.String(),
  projectId: Type.String(),
  projectName: Type.String(),
  version: Type.String(),
  notes: Type.String(),
  steps: Type.Array(Type.String()),
  packages: Type.Array(Type.Object({ step: Type.String(), packageId: Type.String(), version: Type.String() })),
  createdAt: Type.String(),
});

const SNAPSHOT_CACHE = 64;
const snapshots = new Map<string, ReleaseSnapshot>();

/**
 * Releases are immutable, so a decrypted snapshot can be kept: a deployment reads its snapshot on
 * every step and after every operation, and decrypting and parsing it each time showed in profiles.
 */
export function openSnapshot(ctx: Pick<ServerContext, 'box'>, row: Database['releases']): ReleaseSnapshot {
  let snapshot = snapshots.get(row.id);
  if (!snapshot) {
    snapshot = ctx.box.openJson<ReleaseSnapshot>(row.snapshot);
    if (snapshots.size >= SNAPSHOT_CACHE) snapshots.delete(snapshots.keys().next().value!);
    snapshots.set(row.id, snapshot);
  }
  return snapshot;
}

function present(ctx: ServerContext, row: Database['releases']): Static<typeof Release> {
  const s = openSnapshot(ctx, row);
  return {
    id: row.id,
    projectId: row.project_id,
    projectName: s.projectName,
    version: row.version,
    notes: row.notes,
    steps: s.process.steps.map((st) => st.name),
    packages: s.stepPackages.flatMap((pkgs, i) =>
      pkgs.map((p) => ({ step: s.process.steps[i]!.name, packageId: p.packageId, version: p.version })),
    ),
    createdAt: iso(row.created_at)!,
  };
}

async function nextVersion(ctx: ServerContext, projectId: string): Promise<string> {
  const rows = await ctx.db.selectFrom('releases').select('version').where('project_id', '=', projectId).execute();
  const newest = newestVersion(rows.map((r) => r.version));
  const v = newest ? parseSemver(newest)! : undefined;
  return v ? `${v.major}.${v.minor}.${v.patch + 1}` : '0.0.1';
}

async function resolvePackages(ctx: ServerContext, process: Process): Promise<OperationPackage[][]> {
  const out: OperationPackage[][] = [];
  for (const [i, step] of process.steps.entries()) {
    const list: OperationPackage[] = [];
    for (const [j, ref] of (step.packages ?? []).entries()) {
      const where = `process.steps[${i}] '${step.name}' packages[${j}] '${ref.packageId}'`;
      if (ref.kind === 'docker-image') {
        if (!ref.version)
          throw new LongshoreError('VALIDATION_FAILED', `${where}: a docker-image package needs a version (tag)`);
        list.push({
          reference: ref.reference ?? ref.packageId,
          packageId: ref.packageId,
          version: ref.version,
          format: 'docker-image',
          sha256: '',
          downloadPath: '',
        });
        continue;
      }
      const rows = await ctx.db.selectFrom('packages').selectAll().where('package_id', '=', ref.packageId).execute();
      const version = ref.version ?? newestVersion(rows.map((r) => r.version));
      const row = rows.find((r) => r.version === version);
      if (!row) {
        throw new LongshoreError(
          'VALIDATION_FAILED',
          `${where}: ${ref.version ? `version ${ref.version} is` : 'no version is'} in the feed; push it with 'longshore packages push'`,
        );
      }
      list.push({
        reference: ref.reference ?? ref.packageId,
        packageId: row.package_id,
        version: row.version,
        format: row.format as 'tar.gz' | 'zip',
        sha256: row.sha256,
        downloadPath: agentRoutes.packageContent(row.package_id, row.version),
      });
    }
    out.push(list);
  }
  return out;
}

export async function createRelease(
  ctx: ServerContext,
  projectRef: string,
  input: Static<typeof ReleaseInput>,
): Promise<Database['releases']> {
  const project = await findByRef(ctx.db, 'projects', projectRef);
  const version = input.version ?? (await nextVersion(ctx, project.id));
  if (!parseSemver(version))
    throw new LongshoreError('VALIDATION_FAILED', `version '${version}' is not a semantic version (e.g. 1.2.3)`);
  const process = JSON.parse(project.process) as Process;
  if (process.steps.length === 0)
    throw new LongshoreError('VALIDATION_FAILED', `Project '${project.name}' has no steps in its deployment process`);
  const snapshot: ReleaseSnapshot = {
    projectId: project.id,
    projectName: project.name,
    process,
    variables: await loadVariables(ctx, project.id),
    stepPackages: await resolvePackages(ctx, process),
    references: 'ids',
  };
  const row = {
    id: newId('release'),
    project_id: project.id,
    version,
    snapshot: ctx.box.sealJson(snapshot),
    notes: input.notes ?? '',
    created_at: now(),
  };
  await uniquely(`Release ${version} of project '${project.name}'`, () =>
    ctx.db.insertInto('releases').values(row).execute(),
  );
  return row;
}

/** The named release, or the newest one; with none yet, a new one is made from the current process. */
export async function releaseForDeployment(
  ctx: ServerContext,
  projectRef: string,
  version: string | undefined,
): Promise<Database['releases']> {
  const project = await findByRef(ctx.db, 'projects', projectRef);
  const rows = await ctx.db.selectFrom('releases').selectAll().where('project_id', '=', project.id).execute();
  if (version !== undefined) {
    const row = rows.find((r) => r.version === version);
    if (!row) throw new LongshoreError('NOT_FOUND', `Project '${project.name}' has no release ${version}`);
    return row;
  }
  const newest = rows
    .filter((r) => parseSemver(r.version))
    .sort((a, b) => compareSemver(parseSemver(b.version)!, parseSemver(a.version)!))[0];
  return newest ?? createRelease(ctx, project.id, {});
}

export async function releaseRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['releases'];
  app.post(
    '/api/projects/:ref/releases',
    { schema: { tags, params: RefParams, body: ReleaseInput, response: { 201: Release } } },
    async (req, reply) => {
      const row = await createRelease(ctx, req.params.ref, req.body);
      return reply.status(201).send(present(ctx, row));
    },
  );
  app.get(
    '/api/projects/:ref/releases',
    { schema: { tags, params: RefParams, response: { 200: ListOf(Release) } } },
    async (req) => {
      const project = await findByRef(ctx.db, 'projects', req.params.ref);
      const rows = await ctx.db
        .selectFrom('releases')
        .selectAll()
        .where('project_id', '=', project.id)
        .orderBy('created_at', 'desc')
        .execute();
      return { items: rows.map((r) => present(ctx, r)) };
    },
  );
  app.get(
    '/api/releases/:id',
    { schema: { tags, params: Type.Object({ id: Type.String({ maxLength: 100 }) }), response: { 200: Release } } },
    async (req) => {
      const row = await ctx.db.selectFrom('releases').selectAll().where('id', '=', req.params.id).executeTakeFirst();
      if (!row) throw new LongshoreError('NOT_FOUND', `Release '${req.params.id}' does not exist`);
      return present(ctx, row);
    },
  );
}

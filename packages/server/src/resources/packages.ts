import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import { documentRawBody, errorResponses } from '../http/openApiResponses.js';
import type { ServerContext } from '../context.js';
import { ListOf, iso, now } from './common.js';
import { receiveUpload, verifyArchive } from './packageArchive.js';
import { SEMVER_PATTERN } from './semver.js';

const PackageId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 100 });
const VersionParams = Type.Object({ packageId: PackageId, version: Type.String({ minLength: 1, maxLength: 100 }) });
const PushParams = Type.Object({
  packageId: PackageId,
  version: Type.String({
    maxLength: 100,
    pattern: SEMVER_PATTERN,
    description: 'a semantic version (e.g. 1.2.3 or 1.2.3-beta.1)',
  }),
});
const Package = Type.Object({
  packageId: Type.String(),
  version: Type.String(),
  format: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  createdAt: Type.String(),
});
const ARCHIVE_TYPES = [
  'application/octet-stream',
  'application/gzip',
  'application/x-gzip',
  'application/zip',
  'application/x-tar',
];
/** A package's content, as the API and the agent route send it (sendPackageContent). */
export const PackageContent = {
  description: 'The archive as it was pushed',
  headers: {
    'x-longshore-sha256': Type.String({
      pattern: '^[0-9a-f]{64}$',
      description: 'SHA-256 of the content, lowercase hex',
    }),
  },
  content: {
    'application/gzip': { schema: Type.String({ format: 'binary' }) },
    'application/zip': { schema: Type.String({ format: 'binary' }) },
  },
};

export async function findPackage(ctx: ServerContext, packageId: string, version: string) {
  const row = await ctx.db
    .selectFrom('packages')
    .selectAll()
    .where('package_id', '=', packageId)
    .where('version', '=', version)
    .executeTakeFirst();
  if (!row) throw new LongshoreError('NOT_FOUND', `Package ${packageId} version ${version} is not in the feed`);
  return row;
}

/** Shared by the API route and the agent route (the worker's own credential). */
export async function sendPackageContent(ctx: ServerContext, reply: FastifyReply, packageId: string, version: string) {
  const row = await findPackage(ctx, packageId, version);
  const type = row.format === 'zip' ? 'application/zip' : 'application/gzip';
  const content = await ctx.packages.open({
    what: `package ${row.package_id} ${row.version}`,
    reference: row.path,
    size: row.size,
    sha256: row.sha256,
  });
  return reply
    .header('content-type', type)
    .header('content-length', row.size)
    .header('x-longshore-sha256', row.sha256)
    .send(content);
}

export async function packageRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['packages'];
  await ctx.packages.sweepLeftovers();
  await app.register(async (feed) => {
    feed.addContentTypeParser(ARCHIVE_TYPES, { bodyLimit: ctx.config.maxPackageBytes }, (_req, payload, done) =>
      done(null, payload),
    );
    const push = {
      config: documentRawBody(ARCHIVE_TYPES, 'A .tar.gz or .zip archive, sent as it is'),
      schema: { tags, params: PushParams, response: { 201: Package, ...errorResponses(413, 415, 422) } },
    };
    // The body is the stream the parser above hands over unread: named here, as no body schema can say it.
    type PushRequest = { Params: Static<typeof PushParams>; Body: Readable };
    feed.post<PushRequest>('/api/packages/:packageId/:version', push, async (req, reply) => {
      const { packageId, version } = req.params;
      if (!ARCHIVE_TYPES.includes((req.headers['content-type'] ?? '').split(';')[0]!.trim())) {
        throw new LongshoreError(
          'UNSUPPORTED_MEDIA_TYPE',
          `Send the archive as the raw body with Content-Type ${ARCHIVE_TYPES[0]}`,
        );
      }
      if (await findPackage(ctx, packageId, version).catch(() => undefined))
        throw new LongshoreError(
          'CONFLICT',
          `Package ${packageId} version ${version} already exists; versions are immutable, push a new one`,
        );
      const upload = await ctx.packages.uploadPath();
      try {
        const { size, sha256 } = await receiveUpload(req.body, upload, ctx.config.maxPackageBytes);
        const { format } = await verifyArchive(upload);
        const created_at = now();
        try {
          await ctx.packages.store(upload, { size, sha256 }, (trx, path) =>
            trx
              .insertInto('packages')
              .values({ package_id: packageId, version, format, size, sha256, path, created_at })
              .execute(),
          );
        } catch (e) {
          // Another push of this version (on this node or another) recorded it first.
          if (await findPackage(ctx, packageId, version).catch(() => undefined)) {
            throw new LongshoreError(
              'CONFLICT',
              `Package ${packageId} version ${version} was pushed by another request at the same time; versions are immutable, push a new one`,
            );
          }
          throw e;
        }
        return reply.status(201).send({ packageId, version, format, size, sha256, createdAt: iso(created_at)! });
      } finally {
        await rm(upload, { force: true });
      }
    });
  });
  app.get(
    '/api/packages',
    {
      schema: {
        tags,
        querystring: Type.Object({ packageId: Type.Optional(PackageId) }),
        response: { 200: ListOf(Package) },
      },
    },
    async (req) => {
      const { packageId } = req.query;
      let q = ctx.db.selectFrom('packages').selectAll().orderBy('package_id').orderBy('created_at', 'desc');
      if (packageId) q = q.where('package_id', '=', packageId);
      const rows = await q.execute();
      return {
        items: rows.map((r) => ({
          packageId: r.package_id,
          version: r.version,
          format: r.format,
          size: r.size,
          sha256: r.sha256,
          createdAt: iso(r.created_at)!,
        })),
      };
    },
  );
  app.get(
    '/api/packages/:packageId/:version/content',
    { schema: { tags, params: VersionParams, response: { 200: PackageContent } } },
    async (req, reply) => {
      const { packageId, version } = req.params;
      return sendPackageContent(ctx, reply, packageId, version);
    },
  );
}

import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { LONGSHORE_VERSION, LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { errorResponses } from '../http/openApiResponses.js';
import { findByRef, Name, nameHolder } from '../resources/common.js';
import { createRegistrationToken } from '../resources/workers.js';
import { checkExtraValueKey, helmCommand, releaseName, type HelmInstall } from './helmCommand.js';

export const InstallCommandInput = Type.Object(
  {
    pools: Type.Array(Name, { minItems: 1, maxItems: 50, description: 'The worker pools the worker serves; each must exist' }),
    // The chart's limits: the name is also a label value (63 characters), and the release is named after it.
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$', description: 'The worker name; default: the release name' })),
    namespace: Type.Optional(Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', default: 'longshore', description: 'The Kubernetes namespace, created if missing' })),
    values: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }), { maxProperties: 100, default: {}, description: 'More chart values, by dotted path' })),
    expiresInMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60, description: "Lifetime of the command's registration token" })),
  },
  { additionalProperties: false },
);
// The validator fills in the defaults, so the handler sees them set.
type InstallCommandInput = Required<Pick<Static<typeof InstallCommandInput>, 'namespace' | 'values'>> & Static<typeof InstallCommandInput>;

const InstallCommand = Type.Object({
  command: Type.String({ description: 'One line for a shell with helm and access to the cluster' }),
  token: Type.String({ description: 'The single-use registration token in the command' }),
  expiresAt: Type.String(),
  helm: Type.Object({
    release: Type.String(),
    chart: Type.String(),
    version: Type.String(),
    namespace: Type.String(),
    values: Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())])),
  }),
});

/** The chart's worker.pools takes names without whitespace or commas (they travel in one environment variable). */
const CHART_POOL_NAME = /^[^,\s]+$/;

/**
 * `longshore workers install-command` and the portal's wizard: the whole helm command for a new
 * Kubernetes worker, with a fresh single-use token. Nothing is stored but the token.
 */
export async function installCommandRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post('/api/workers/install-command', { schema: { tags: ['workers'], body: InstallCommandInput, response: { 201: InstallCommand, ...errorResponses(404) } } }, async (req, reply) => {
    const input = req.body as InstallCommandInput;
    for (const key of Object.keys(input.values)) checkExtraValueKey(key);
    const pools: string[] = [];
    for (const ref of input.pools) {
      const { name } = await findByRef(ctx.db, 'worker_pools', ref);
      if (!CHART_POOL_NAME.test(name)) {
        throw new LongshoreError('VALIDATION_FAILED', `Worker pool '${name}' has whitespace or a comma in its name, which the chart's worker.pools cannot carry; rename the pool`, { pool: name });
      }
      if (!pools.includes(name)) pools.push(name);
    }
    if (input.name !== undefined) {
      const taken = await nameHolder(ctx.db, 'workers', input.name);
      if (taken) throw new LongshoreError('CONFLICT', `A worker named '${input.name}' is already registered: choose another name, or delete it first (longshore workers delete ${input.name})`);
    }
    const registration = await createRegistrationToken(ctx, { pools, ...(input.expiresInMinutes ? { expiresInMinutes: input.expiresInMinutes } : {}) });
    const { url, certificate } = ctx.endpoint;
    // A pin only for a certificate workers cannot check otherwise, reached directly: behind a TLS-terminating proxy (plain HTTP here) there is none to pin.
    const thumbprint = certificate?.pin && url.startsWith('https://') ? certificate.thumbprint : undefined;
    const helm: HelmInstall = {
      release: releaseName(input.name),
      chart: ctx.config.workerChart,
      version: LONGSHORE_VERSION,
      namespace: input.namespace,
      values: {
        'server.url': url,
        ...(thumbprint ? { 'server.certificateThumbprint': thumbprint } : {}),
        'registration.token': registration.token,
        ...(input.name !== undefined ? { 'worker.name': input.name } : {}),
        'worker.pools': pools,
        ...input.values,
      },
    };
    return reply.status(201).send({ command: helmCommand(helm), token: registration.token, expiresAt: registration.expiresAt, helm });
  });
}

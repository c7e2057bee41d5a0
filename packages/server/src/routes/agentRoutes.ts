import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  CompleteRequest,
  HealthReport,
  LogBatchRequest,
  LogBatchResponse,
  LongshoreError,
  OperationStateResponse,
  PackageTokenResponse,
  PollRequest,
  PollResponse,
  RegisterRequest,
  RegisterResponse,
  WorkerInfoRequest,
  agentRoutes,
  isActiveOperationState,
  type Operation,
} from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { requireWorker } from '../http/authentication.js';
import { errorResponses } from '../http/openApiResponses.js';
import { requirePackageInScope } from '../http/packageTokenAccess.js';
import { issuePackageToken, packageTokenExpiry } from '../crypto/packageTokens.js';
import { hashToken, newId, newSecretToken } from '../crypto/tokens.js';
import { NoContent, uniquely } from '../resources/common.js';
import { larger } from '../store/sqlDialect.js';
import { PackageContent, sendPackageContent } from '../resources/packages.js';
import { WORKER_CHART_PACKAGE_ID } from '../upgrades/workerUpgrades.js';

const OperationParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const HealthCheckParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** The worker's side of the channel (see @longshore/protocol agentRoutes). */
export async function agentRoutesPlugin(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['agent'];

  app.post(
    agentRoutes.register,
    {
      config: { access: 'public' },
      schema: { tags, body: RegisterRequest, response: { 201: RegisterResponse, ...errorResponses(401) } },
    },
    async (req, reply) => {
      const input = req.body;
      const credential = newSecretToken('lsw_');
      const result = await ctx.db.transaction().execute(async (trx) => {
        const token = await trx
          .selectFrom('registration_tokens')
          .selectAll()
          .where('hash', '=', hashToken(input.token))
          .executeTakeFirst();
        if (!token)
          throw new LongshoreError(
            'REGISTRATION_TOKEN_INVALID',
            'The registration token is not known to this server; create a new one with "longshore workers install-command" or POST /api/registration-tokens',
          );
        if (token.used_at !== null)
          throw new LongshoreError(
            'REGISTRATION_TOKEN_INVALID',
            `The registration token was already used at ${new Date(token.used_at).toISOString()}; tokens are single-use, create a new one`,
          );
        if (token.expires_at < Date.now())
          throw new LongshoreError(
            'REGISTRATION_TOKEN_INVALID',
            `The registration token expired at ${new Date(token.expires_at).toISOString()}; create a new one`,
          );
        const poolIds = JSON.parse(token.pools) as string[];
        const id = newId('worker');
        const t = Date.now();
        await uniquely(`A worker named '${input.name}'`, () =>
          trx
            .insertInto('workers')
            .values({
              id,
              name: input.name,
              credential_hash: hashToken(credential),
              executor: input.executor,
              version: input.version,
              pools: JSON.stringify(poolIds),
              capacity: input.capacity,
              metadata: JSON.stringify(input.metadata ?? {}),
              disabled: 0,
              last_seen_at: t,
              registered_at: t,
            })
            .execute(),
        );
        await trx.updateTable('registration_tokens').set({ used_at: t }).where('hash', '=', token.hash).execute();
        const pools = poolIds.length
          ? await trx.selectFrom('worker_pools').select('name').where('id', 'in', poolIds).execute()
          : [];
        return { workerId: id, credential, pools: pools.map((p) => p.name) };
      });
      req.log.info({ worker: input.name, pools: result.pools }, 'worker registered');
      return reply.status(201).send(result);
    },
  );

  app.put(
    agentRoutes.workerInfo,
    { schema: { tags, body: WorkerInfoRequest, response: { 204: NoContent } } },
    async (req, reply) => {
      const { version, capacity, metadata } = req.body;
      await ctx.db
        .updateTable('workers')
        .set({ version, capacity, metadata: JSON.stringify(metadata), last_seen_at: Date.now() })
        .where('id', '=', requireWorker(req).workerId)
        .execute();
      return reply.status(204).send();
    },
  );

  app.post(
    agentRoutes.poll,
    { schema: { tags, body: PollRequest, response: { 200: PollResponse } } },
    async (req, reply) => {
      // When the poll arrived: its list of running operations is from then, whatever it waited for since.
      const receivedAt = Date.now() - reply.elapsedTime;
      const principal = requireWorker(req);
      const row = await ctx.db
        .selectFrom('workers')
        .select(['pools'])
        .where('id', '=', principal.workerId)
        .executeTakeFirstOrThrow();
      const abort = new AbortController();
      // Fires when the answer is sent or the worker hangs up; either way stop waiting.
      reply.raw.once('close', () => abort.abort());
      // A check waiting for the worker is answered now rather than after an idle wait.
      const checkWaiting = await ctx.health.hasPending(principal.workerId);
      const answer = await ctx.dispatcher.poll(
        {
          id: principal.workerId,
          name: principal.workerName,
          disabled: principal.disabled,
          pools: JSON.parse(row.pools) as string[],
        },
        checkWaiting ? { ...req.body, waitMs: 0 } : req.body,
        abort.signal,
        receivedAt,
      );
      // A worker that hung up gets its checks with its next poll.
      if (abort.signal.aborted) return answer;
      const healthChecks = await ctx.health.send(principal.workerId);
      return healthChecks.length ? { ...answer, healthChecks } : answer;
    },
  );

  app.post(
    agentRoutes.healthReport.template,
    {
      schema: { tags, params: HealthCheckParams, body: HealthReport, response: { 204: NoContent } },
    },
    async (req, reply) => {
      await ctx.health.report(requireWorker(req).workerId, req.params.id, req.body);
      return reply.status(204).send();
    },
  );

  app.post(agentRoutes.offline, { schema: { tags, response: { 204: NoContent } } }, async (req, reply) => {
    await ctx.db
      .updateTable('workers')
      .set({ offline_at: Date.now() })
      .where('id', '=', requireWorker(req).workerId)
      .execute();
    return reply.status(204).send();
  });

  const heldOperation = async (workerId: string, id: string) => {
    const op = await ctx.db
      .selectFrom('operations')
      .select(['id', 'worker_id', 'state', 'acked_seq', 'last_source', 'cancel_requested'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!op || op.worker_id !== workerId)
      throw new LongshoreError(
        'OPERATION_NOT_LEASED',
        `Operation ${id} is not held by this worker; stop it and drop it`,
      );
    return op;
  };

  app.post(
    agentRoutes.logs.template,
    { schema: { tags, params: OperationParams, body: LogBatchRequest, response: { 200: LogBatchResponse } } },
    async (req) => {
      const { id } = req.params;
      const { body } = req;
      await heldOperation(requireWorker(req).workerId, id);
      const result = await ctx.taskLog.appendOperationLines(id, body.lines);
      if (body.progress || body.scriptStartedAt !== undefined || body.scriptPod !== undefined) {
        const { progress, scriptStartedAt, scriptPod } = body;
        await ctx.db
          .updateTable('operations')
          .set({
            ...(progress && { progress: progress.percentage, progress_message: progress.message }),
            ...(scriptPod !== undefined && { script_pod: scriptPod }),
            // The first report counts. A worker's clock (or a kubelet's, to the second) cannot put it before the lease or after now.
            ...(scriptStartedAt !== undefined && {
              script_started_at: sql<number>`coalesce(script_started_at, ${larger(sql<number>`coalesce(leased_at, 0)`, Math.min(scriptStartedAt, Date.now()))})`,
            }),
          })
          .where('id', '=', id)
          .execute();
        ctx.taskLog.notify(result.taskId);
      }
      return { ackedSeq: result.ackedSeq, lastSource: result.lastSource, cancelRequested: result.cancelRequested };
    },
  );

  app.post(
    agentRoutes.complete.template,
    { schema: { tags, params: OperationParams, body: CompleteRequest, response: { 204: NoContent } } },
    async (req, reply) => {
      const { id } = req.params;
      const { body } = req;
      const op = await heldOperation(requireWorker(req).workerId, id);
      if (op.state !== 'finished') {
        if (op.acked_seq < body.finalSeq) {
          throw new LongshoreError(
            'LOG_GAP',
            `Send log lines ${op.acked_seq + 1}..${body.finalSeq} before completing`,
            { expectedSeq: op.acked_seq + 1 },
          );
        }
        await ctx.tasks.completeOperation(id, {
          outcome: body.outcome,
          message: body.message,
          outputVariables: body.outputVariables,
          ...(body.exitCode !== undefined ? { exitCode: body.exitCode } : {}),
          ...(body.usage ? { usage: body.usage } : {}),
        });
      }
      return reply.status(204).send();
    },
  );

  app.get(
    agentRoutes.operationState.template,
    { schema: { tags, params: OperationParams, response: { 200: OperationStateResponse } } },
    async (req) => {
      const { id } = req.params;
      const op = await ctx.db
        .selectFrom('operations')
        .select(['worker_id', 'state', 'acked_seq', 'last_source', 'cancel_requested', 'payload'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!op || op.worker_id !== requireWorker(req).workerId)
        return { id, state: 'unknown' as const, ackedSeq: 0, lastSource: 0, cancelRequested: false };
      const held = isActiveOperationState(op.state);
      return {
        id,
        state: op.state as 'leased',
        ackedSeq: op.acked_seq,
        lastSource: op.last_source,
        cancelRequested: op.cancel_requested === 1,
        ...(held ? { operation: ctx.box.openJson<Operation>(op.payload) } : {}),
      };
    },
  );

  // A script pod's init container downloads with this instead of the worker's credential (see crypto/packageTokens.ts).
  app.post(
    agentRoutes.packageToken.template,
    { schema: { tags, params: OperationParams, response: { 200: PackageTokenResponse } } },
    async (req) => {
      const { id } = req.params;
      const { workerId } = requireWorker(req);
      const op = await heldOperation(workerId, id);
      if (!isActiveOperationState(op.state)) {
        throw new LongshoreError(
          'OPERATION_NOT_LEASED',
          `Operation ${id} has ended (${op.state}); package tokens are issued only while it runs`,
        );
      }
      const row = await ctx.db
        .selectFrom('operations')
        .select('payload')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const expiresAt = packageTokenExpiry(ctx.box.openJson<Operation>(row.payload).timeoutSeconds, Date.now());
      return {
        token: issuePackageToken(ctx.box, { operationId: id, workerId, expiresAt }),
        expiresAt: new Date(expiresAt).toISOString(),
      };
    },
  );

  app.get(
    agentRoutes.packageContent.template,
    {
      config: { access: 'workerOrPackageToken' },
      schema: {
        tags,
        params: Type.Object({ packageId: Type.String({ maxLength: 100 }), version: Type.String({ maxLength: 100 }) }),
        response: { 200: PackageContent },
      },
    },
    async (req, reply) => {
      const { packageId, version } = req.params;
      if (req.principal?.kind === 'packageToken') requirePackageInScope(req.principal, packageId, version);
      else requireWorker(req);
      return sendPackageContent(ctx, reply, packageId, version);
    },
  );

  app.get(
    agentRoutes.workerChart.template,
    {
      config: { access: 'workerOrPackageToken' },
      schema: {
        tags,
        params: Type.Object({ version: Type.String({ maxLength: 100 }) }),
        response: { 200: PackageContent },
      },
    },
    async (req, reply) => {
      const { version } = req.params;
      if (req.principal?.kind === 'packageToken')
        requirePackageInScope(req.principal, WORKER_CHART_PACKAGE_ID, version);
      else requireWorker(req);
      const chart = ctx.upgrades.chartArchive(version);
      // Untyped: the schema's binary string documents the body, a Buffer is what goes out.
      return (reply as FastifyReply)
        .header('content-type', 'application/gzip')
        .header('x-longshore-sha256', chart.sha256)
        .send(chart.archive);
    },
  );
}

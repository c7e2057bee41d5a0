import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { newId } from '../crypto/tokens.js';
import {
  ListOf,
  NoContent,
  Ref,
  RefParams,
  assertNameFree,
  createUnderFreeName,
  findByRef,
  inTransaction,
  uniquely,
} from '../resources/common.js';
import { normaliseName } from '../resources/names.js';
import type { Store } from '../store/database.js';
import { PING_EVENT } from './webhookEvents.js';
import {
  CreatedWebhook,
  DeliveryQuery,
  Webhook,
  WebhookBody,
  WebhookDelivery,
  checkedUrl,
  presentDelivery,
  presentWebhook,
} from './webhookSchemas.js';
import { newSigningSecret } from './webhookSignature.js';

const DeliveryParams = Type.Object({ ref: Ref, id: Type.String({ minLength: 1, maxLength: 100 }) });

async function deliveryOf(db: Store, webhook: { id: string; name: string }, id: string) {
  const row = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('id', '=', id)
    .where('webhook_id', '=', webhook.id)
    .executeTakeFirst();
  if (!row) throw new LongshoreError('NOT_FOUND', `Webhook '${webhook.name}' has no delivery '${id}'`);
  return row;
}

/** Webhooks, their delivery log, a test delivery and redelivery; all need `webhook:manage`. */
export async function webhookRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['webhooks'];

  app.get('/api/webhooks', { schema: { tags, response: { 200: ListOf(Webhook) } } }, async () => {
    const rows = await ctx.db.selectFrom('webhooks').selectAll().orderBy('name').execute();
    return { items: rows.map(presentWebhook) };
  });

  app.get('/api/webhooks/:ref', { schema: { tags, params: RefParams, response: { 200: Webhook } } }, async (req) =>
    presentWebhook(await findByRef(ctx.db, 'webhooks', req.params.ref)),
  );

  app.post(
    '/api/webhooks',
    { schema: { tags, body: WebhookBody, response: { 201: CreatedWebhook } } },
    async (req, reply) => {
      const name = normaliseName(req.body.name);
      const url = checkedUrl(req.body.url);
      const secret = req.body.secret ?? newSigningSecret();
      const id = await uniquely(`A webhook named '${name}'`, () =>
        createUnderFreeName(ctx, 'webhooks', 'A webhook', name, async (tx) => {
          const id = newId('webhook');
          await tx.db
            .insertInto('webhooks')
            .values({
              id,
              name,
              url,
              events: JSON.stringify(req.body.events),
              secret: ctx.box.seal(secret),
              enabled: req.body.enabled ? 1 : 0,
              created_at: Date.now(),
            })
            .execute();
          return id;
        }),
      );
      const row = await ctx.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return reply.status(201).send({ ...presentWebhook(row), secret });
    },
  );

  app.put(
    '/api/webhooks/:ref',
    { schema: { tags, params: RefParams, body: WebhookBody, response: { 200: Webhook } } },
    async (req) => {
      const name = normaliseName(req.body.name);
      const url = checkedUrl(req.body.url);
      const id = await uniquely(`A webhook named '${name}'`, () =>
        inTransaction(ctx, async (tx) => {
          const webhook = await findByRef(tx.db, 'webhooks', req.params.ref);
          await assertNameFree(tx.db, 'webhooks', 'A webhook', name, webhook.id);
          await tx.db
            .updateTable('webhooks')
            .set({
              name,
              url,
              events: JSON.stringify(req.body.events),
              enabled: req.body.enabled ? 1 : 0,
              ...(req.body.secret !== undefined && { secret: ctx.box.seal(req.body.secret) }),
            })
            .where('id', '=', webhook.id)
            .execute();
          return webhook.id;
        }),
      );
      const row = await ctx.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      // Enabled again: what waited for it goes out now.
      if (row.enabled) await ctx.webhooks.wake();
      return presentWebhook(row);
    },
  );

  app.delete(
    '/api/webhooks/:ref',
    { schema: { tags, params: RefParams, response: { 204: NoContent } } },
    async (req, reply) => {
      const webhook = await findByRef(ctx.db, 'webhooks', req.params.ref);
      // Its deliveries go with it (ON DELETE CASCADE), pending ones too.
      await ctx.db.deleteFrom('webhooks').where('id', '=', webhook.id).execute();
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/webhooks/:ref/deliveries',
    { schema: { tags, params: RefParams, querystring: DeliveryQuery, response: { 200: ListOf(WebhookDelivery) } } },
    async (req) => {
      const webhook = await findByRef(ctx.db, 'webhooks', req.params.ref);
      const { limit, before, state } = req.query;
      let q = ctx.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhook.id);
      if (before !== undefined) {
        const from = await ctx.db
          .selectFrom('webhook_deliveries')
          .select('seq')
          .where('id', '=', before)
          .where('webhook_id', '=', webhook.id)
          .executeTakeFirst();
        if (!from)
          throw new LongshoreError(
            'VALIDATION_FAILED',
            `before: webhook '${webhook.name}' has no delivery '${before}' (it may have been removed by age); start again without before`,
          );
        q = q.where('seq', '<', from.seq);
      }
      if (state !== undefined) q = q.where('state', '=', state);
      const rows = await q.orderBy('seq', 'desc').limit(limit).execute();
      return { items: rows.map(presentDelivery) };
    },
  );

  app.get(
    '/api/webhooks/:ref/deliveries/:id',
    { schema: { tags, params: DeliveryParams, response: { 200: WebhookDelivery } } },
    async (req) => {
      const webhook = await findByRef(ctx.db, 'webhooks', req.params.ref);
      return presentDelivery(await deliveryOf(ctx.db, webhook, req.params.id));
    },
  );

  app.post(
    '/api/webhooks/:ref/test',
    { schema: { tags, params: RefParams, response: { 202: WebhookDelivery } } },
    async (req, reply) => {
      const webhook = await findByRef(ctx.db, 'webhooks', req.params.ref);
      if (!webhook.enabled)
        throw new LongshoreError('CONFLICT', `Webhook '${webhook.name}' is disabled: enable it to send it a test`);
      const events = JSON.parse(webhook.events) as string[];
      const delivery = await ctx.webhooks.enqueueTo(ctx.db, webhook.id, PING_EVENT, {
        webhook: { id: webhook.id, name: webhook.name },
        events,
        message: `A test delivery from Longshore: webhook '${webhook.name}' receives ${events.join(', ')}`,
      });
      return reply.status(202).send(presentDelivery(delivery));
    },
  );

  app.post(
    '/api/webhooks/:ref/deliveries/:id/redeliver',
    { schema: { tags, params: DeliveryParams, response: { 202: WebhookDelivery } } },
    async (req, reply) => {
      const delivery = await inTransaction(ctx, async (tx) => {
        const webhook = await findByRef(tx.db, 'webhooks', req.params.ref);
        const original = await deliveryOf(tx.db, webhook, req.params.id);
        if (original.state === 'pending')
          throw new LongshoreError(
            'CONFLICT',
            `Delivery '${original.id}' is still being delivered (attempt ${original.attempts}); redeliver it once it is delivered or failed`,
          );
        return ctx.webhooks.redeliver(tx.db, original);
      });
      return reply.status(202).send(presentDelivery(delivery));
    },
  );
}

import { Type, type Static } from '@sinclair/typebox';
import type { Selectable } from 'kysely';
import { LongshoreError } from '@longshore/protocol';
import { Name, NamedRow, iso } from '../resources/common.js';
import { WithDefaults } from '../http/validation.js';
import type { Database } from '../store/schema.js';
import { WEBHOOK_EVENTS, WEBHOOK_EVENT_NAMES } from './webhookEvents.js';

const EventName = Type.Union(
  WEBHOOK_EVENT_NAMES.map((e) => Type.Literal(e, { description: WEBHOOK_EVENTS[e] })),
  { description: 'An event a webhook may subscribe to' },
);

export const WebhookInput = Type.Object(
  {
    name: Name,
    url: Type.String({
      minLength: 1,
      maxLength: 2000,
      pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s]+$',
      description: 'an http:// or https:// URL without spaces',
    }),
    events: Type.Array(EventName, { minItems: 1, maxItems: WEBHOOK_EVENT_NAMES.length, uniqueItems: true }),
    secret: Type.Optional(
      Type.String({
        minLength: 16,
        maxLength: 256,
        pattern: '^[\\x21-\\x7e]+$',
        description:
          'at least 16 printable characters without spaces. Deliveries are signed with it; on create a random one is made when absent (answered once), on update the stored one is kept',
      }),
    ),
    enabled: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);
export type WebhookInput = Static<typeof WebhookInput>;
export const WebhookBody = WithDefaults(WebhookInput);

export const Webhook = Type.Object({
  ...NamedRow,
  url: Type.String(),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  createdAt: Type.String(),
});
/** What creating one answers: the signing secret, this once. */
export const CreatedWebhook = Type.Object({
  ...Webhook.properties,
  secret: Type.String({ description: 'The signing secret: shown only now; keep it with the receiver' }),
});

export const DeliveryState = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]);

export const WebhookDelivery = Type.Object({
  id: Type.String({ description: 'Sent as X-Longshore-Delivery and as the id in the body' }),
  event: Type.String(),
  state: DeliveryState,
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([Type.String(), Type.Null()], { description: 'While pending: when it is tried next' }),
  lastStatus: Type.Union([Type.Integer(), Type.Null()], { description: "The receiver's last HTTP status" }),
  lastError: Type.Union([Type.String(), Type.Null()], { description: 'Why the last attempt did not deliver it' }),
  createdAt: Type.String(),
  deliveredAt: Type.Union([Type.String(), Type.Null()]),
  payload: Type.Object({}, { additionalProperties: true, description: 'The JSON body as it is sent' }),
});

export const DeliveryQuery = WithDefaults(
  Type.Object(
    {
      limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
      before: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 100,
          description: 'Deliveries older than this one (its id): the next page',
        }),
      ),
      state: Type.Optional(DeliveryState),
    },
    { additionalProperties: false },
  ),
);

export function presentWebhook(row: Selectable<Database['webhooks']>): Static<typeof Webhook> {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    enabled: row.enabled === 1,
    createdAt: iso(row.created_at)!,
  };
}

export function presentDelivery(row: Selectable<Database['webhook_deliveries']>): Static<typeof WebhookDelivery> {
  return {
    id: row.id,
    event: row.event,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.state === 'pending' ? iso(row.next_attempt_at) : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: iso(row.created_at)!,
    deliveredAt: iso(row.delivered_at),
    payload: JSON.parse(row.payload) as Record<string, unknown>,
  };
}

/**
 * The URL as it is stored, or a 400 that says what is wrong with it. Credentials in it are refused:
 * the URL is shown to whoever manages webhooks and kept in the audit log; the signature is how a
 * receiver knows the sender.
 */
export function checkedUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LongshoreError('VALIDATION_FAILED', `url '${text}' is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new LongshoreError('VALIDATION_FAILED', `url must be http:// or https://, not ${url.protocol}//`);
  if (url.username || url.password)
    throw new LongshoreError(
      'VALIDATION_FAILED',
      'url must not carry a user name or password: it is shown to everyone who manages webhooks; receivers verify deliveries by their signature',
    );
  return url.href;
}

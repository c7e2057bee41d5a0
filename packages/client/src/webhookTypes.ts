/*
 * Webhooks as /api/openapi.json documents them (the server's webhooks/webhookSchemas.ts);
 * test/api/clientContract.test.ts checks them against the document.
 */

/** What a webhook may subscribe to; `ping` is only ever sent by a test delivery. */
export type WebhookEventName =
  | 'deployment.started'
  | 'deployment.succeeded'
  | 'deployment.failed'
  | 'deployment.cancelled'
  | 'worker.unhealthy'
  | 'worker.healthy';

export interface WebhookInput {
  name: string;
  /** http:// or https://, without a user name or password in it. */
  url: string;
  events: WebhookEventName[];
  /** At least 16 printable characters; absent: a random one on create, the stored one on update. */
  secret?: string;
  /** Default true. */
  enabled?: boolean;
}

export interface Webhook {
  id: string;
  name: string;
  url: string;
  events: WebhookEventName[];
  enabled: boolean;
  createdAt: string;
}

/** Creating one answers its signing secret, this once. */
export interface CreatedWebhook extends Webhook {
  secret: string;
}

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  /** Sent as X-Longshore-Delivery and as the body's id. */
  id: string;
  event: WebhookEventName | 'ping';
  state: WebhookDeliveryState;
  attempts: number;
  /** While pending: when it is tried next. */
  nextAttemptAt: string | null;
  /** The receiver's last HTTP status. */
  lastStatus: number | null;
  /** Why the last attempt did not deliver it. */
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  /** The body as it is sent: `{ id, event, occurredAt, data }`. */
  payload: { id: string; event: string; occurredAt: string; data: Record<string, unknown> };
}

export interface WebhookDeliveryFilter {
  /** Default 50, at most 500. */
  limit?: number;
  /** Deliveries older than this one (its id): the next page. */
  before?: string;
  state?: WebhookDeliveryState;
}

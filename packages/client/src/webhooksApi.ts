import { NamedResourceApi } from './namedResourceApi.js';
import type { CreatedWebhook, Webhook, WebhookDelivery, WebhookDeliveryFilter, WebhookInput } from './webhookTypes.js';

/** Webhooks and their delivery log; every call needs `webhook:manage`. */
export class WebhooksApi extends NamedResourceApi<Webhook> {
  /** Answers the signing secret (made up when the input has none): it is never answered again. */
  create(input: WebhookInput, signal?: AbortSignal): Promise<CreatedWebhook> {
    return this.connection.json({ method: 'POST', path: this.path, json: input, signal });
  }

  /** Replaces the webhook; its secret stays unless the input gives a new one. */
  update(ref: string, input: WebhookInput, signal?: AbortSignal): Promise<Webhook> {
    return this.connection.json({ method: 'PUT', path: this.pathOf(ref), json: input, signal });
  }

  /** Removes it with its delivery log; what it had not delivered is not sent. */
  async delete(ref: string, signal?: AbortSignal): Promise<void> {
    await this.connection.json({ method: 'DELETE', path: this.pathOf(ref), signal });
  }

  /** Its deliveries, newest first. */
  async deliveries(ref: string, filter: WebhookDeliveryFilter = {}, signal?: AbortSignal): Promise<WebhookDelivery[]> {
    const call = {
      method: 'GET',
      path: `${this.pathOf(ref)}/deliveries`,
      query: { limit: filter.limit, before: filter.before, state: filter.state },
      signal,
    } as const;
    return (await this.connection.json<{ items: WebhookDelivery[] }>(call)).items;
  }

  delivery(ref: string, id: string, signal?: AbortSignal): Promise<WebhookDelivery> {
    const path = `${this.pathOf(ref)}/deliveries/${encodeURIComponent(id)}`;
    return this.connection.json({ method: 'GET', path, signal });
  }

  /** Queues a `ping` to the webhook; follow it with delivery(). CONFLICT when the webhook is disabled. */
  test(ref: string, signal?: AbortSignal): Promise<WebhookDelivery> {
    return this.connection.json({ method: 'POST', path: `${this.pathOf(ref)}/test`, signal });
  }

  /** Sends a delivered or failed delivery's event again, as a new delivery. CONFLICT while it is pending. */
  redeliver(ref: string, id: string, signal?: AbortSignal): Promise<WebhookDelivery> {
    const path = `${this.pathOf(ref)}/deliveries/${encodeURIComponent(id)}/redeliver`;
    return this.connection.json({ method: 'POST', path, signal });
  }
}

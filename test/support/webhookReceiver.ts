import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './agentClient.js';

/** One request the receiver got, with whether its signature is right for the secret it was told. */
export interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  raw: string;
  body: { id: string; event: string; occurredAt: string; data: any };
  signatureValid: boolean;
  /** The status it answered. */
  status: number;
}

/** A webhook receiver as a user would write one: it checks each delivery's signature over the raw body. */
export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** The signing secret deliveries are checked against. */
  secret: string;
  /** The status it answers (200 unless told otherwise). */
  status: number;
  /** Closes the port (connections refused) until start(). */
  stop(): Promise<void>;
  /** Listens again, on the same port. */
  start(): Promise<void>;
  /** The first delivery of this event (and, if given, matching `where`), waiting for it. */
  next(event: string, where?: (r: Received) => boolean, timeoutMs?: number): Promise<Received>;
}

/** The check of the README: HMAC-SHA256 of the raw body, compared in constant time. */
export function verifySignature(secret: string, raw: string, header: string | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startReceiver(): Promise<WebhookReceiver> {
  let server: Server | undefined;
  let port = 0;
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    secret: '',
    status: 200,
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    },
    async start() {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const status = receiver.status;
          receiver.received.push({
            at: Date.now(),
            headers: req.headers,
            raw,
            body: JSON.parse(raw),
            signatureValid: verifySignature(receiver.secret, raw, req.headers['x-longshore-signature'] as string),
            status,
          });
          res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'busy\nretry later');
        });
      });
      await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
      port = (s.address() as AddressInfo).port;
      server = s;
      receiver.url = `http://127.0.0.1:${port}/hooks/longshore`;
    },
    next(event, where = () => true, timeoutMs = 20_000) {
      return waitFor(
        `a ${event} delivery`,
        async () => receiver.received.find((r) => r.body.event === event && where(r)),
        timeoutMs,
      );
    },
  };
  await receiver.start();
  return receiver;
}

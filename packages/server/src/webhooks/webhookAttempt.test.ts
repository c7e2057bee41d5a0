import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { attemptDelivery, type AttemptRequest } from './webhookAttempt.js';
import { signatureOf } from './webhookSignature.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let handle: Handler = (_req, _body, res) => res.end();
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
});
let url: string;
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const request = (overrides: Partial<AttemptRequest> = {}): AttemptRequest => ({
  url,
  secret: 'a-secret-for-the-tests',
  deliveryId: 'whd-1',
  event: 'deployment.failed',
  body: '{"id":"whd-1","event":"deployment.failed"}',
  timeoutMs: 2000,
  signal: new AbortController().signal,
  ...overrides,
});

test('a 2xx delivers it; the request carries the event, the delivery id and the signature of the body', async () => {
  let seen: { headers: IncomingMessage['headers']; body: string } | undefined;
  handle = (req, body, res) => {
    seen = { headers: req.headers, body };
    res.writeHead(204).end();
  };
  assert.deepEqual(await attemptDelivery(request()), { delivered: true, status: 204, error: null });
  assert.equal(seen!.body, request().body);
  assert.equal(seen!.headers['content-type'], 'application/json');
  assert.equal(seen!.headers['x-longshore-event'], 'deployment.failed');
  assert.equal(seen!.headers['x-longshore-delivery'], 'whd-1');
  assert.equal(seen!.headers['x-longshore-signature'], signatureOf('a-secret-for-the-tests', request().body));
  assert.match(String(seen!.headers['user-agent']), /^Longshore-Webhooks\//);
});

test('a redirect is not followed', async () => {
  let calls = 0;
  handle = (_req, _body, res) => {
    calls++;
    res.writeHead(302, { location: `${url}/elsewhere` }).end();
  };
  const result = await attemptDelivery(request());
  assert.equal(calls, 1);
  assert.deepEqual(result, {
    delivered: false,
    status: 302,
    error: `the receiver redirected to ${url}/elsewhere; redirects are not followed: give the webhook the final URL`,
  });
});

test("a refusal says the status and the start of the receiver's answer, on one line", async () => {
  handle = (_req, _body, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`database\r\ndown ${'x'.repeat(1_000_000)}`);
  };
  const result = await attemptDelivery(request());
  assert.equal(result.status, 500);
  assert.equal(result.delivered, false);
  assert.match(result.error!, /^the receiver answered 500 Internal Server Error: database down x+$/);
  assert.ok(result.error!.length < 300, `${result.error!.length} characters`);
});

test('no answer within the time limit, and no one listening, are failures that say so', async () => {
  handle = () => undefined;
  assert.deepEqual(await attemptDelivery(request({ timeoutMs: 200 })), {
    delivered: false,
    status: null,
    error: 'no answer within 0.2 s',
  });
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const refused = await attemptDelivery(request({ url: `http://127.0.0.1:${port}/hook` }));
  assert.equal(refused.status, null);
  assert.equal(refused.error, `the request failed: connect ECONNREFUSED 127.0.0.1:${port}`);
  // fetch will not call the ports browsers block (the discard port, SMTP, ...).
  assert.equal(
    (await attemptDelivery(request({ url: 'http://127.0.0.1:25/hook' }))).error,
    'the request failed: bad port',
  );
});

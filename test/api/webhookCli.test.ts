// `longshore webhooks` as a user runs it, against a server and a receiver that checks signatures.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCli } from '../support/cliProcess.js';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { startReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

let h: Harness;
let receiver: WebhookReceiver;
before(async () => {
  h = await startHarness({ webhookRetryBaseMs: 60_000, webhookRetryMaxDelayMs: 60_000 });
  receiver = await startReceiver();
});
after(async () => {
  await receiver?.stop();
  await h?.close();
});

const cli = (...args: string[]) => runCli([...args, '--url', h.url], { LONGSHORE_API_KEY: h.apiKey });

test('create prints the secret once; test says whether the sample arrived', async () => {
  const created = await cli(
    'webhooks',
    'create',
    'ci',
    receiver.url,
    '--event',
    'deployment.failed',
    'worker.unhealthy',
    '-o',
    'json',
  );
  assert.equal(created.code, 0, created.output);
  const webhook = JSON.parse(created.output);
  assert.deepEqual(webhook.events, ['deployment.failed', 'worker.unhealthy']);
  receiver.secret = webhook.secret;

  const listed = await cli('webhooks');
  assert.equal(listed.code, 0, listed.output);
  assert.match(
    listed.output,
    /^ci\s+http:\/\/127\.0\.0\.1:\d+\/hooks\/longshore\s+deployment\.failed,worker\.unhealthy\s+yes$/m,
  );
  assert.ok(!listed.output.includes(webhook.secret));

  const sent = await cli('webhooks', 'test', 'ci');
  assert.equal(sent.code, 0, sent.output);
  assert.match(sent.output, /^Delivered: the receiver answered 200 \(delivery whd-\w+\)$/m);
  const ping = await receiver.next('ping');
  assert.ok(ping.signatureValid);
  assert.equal(ping.headers['x-longshore-event'], 'ping');

  receiver.status = 503;
  const refused = await cli('webhooks', 'test', 'ci');
  assert.equal(refused.code, 2, refused.output);
  assert.match(
    refused.output,
    /^Not delivered: the receiver answered 503 Service Unavailable: busy retry later; it is tried again at \S+ \(delivery whd-\w+\)$/m,
  );
  receiver.status = 200;

  await receiver.stop();
  const down = await cli('webhooks', 'test', 'ci');
  assert.equal(down.code, 2, down.output);
  assert.match(
    down.output,
    /^Not delivered: the request failed: connect ECONNREFUSED 127\.0\.0\.1:\d+; it is tried again/m,
  );
  await receiver.start();

  const log = await cli('webhooks', 'deliveries', 'ci', '--limit', '2');
  assert.equal(log.code, 0, log.output);
  const rows = log.output.trim().split('\n');
  assert.match(rows[0]!, /^ID\s+EVENT\s+STATE\s+ATTEMPTS\s+STATUS\s+CREATED\s+WHY NOT \/ NEXT$/);
  assert.equal(rows.length, 3, log.output);
  assert.match(rows[1]!, /^whd-\w+\s+ping\s+pending\s+1\s+-\s+\S+\s+the request failed: connect ECONNREFUSED/);
  assert.match(rows[2]!, /^whd-\w+\s+ping\s+pending\s+1\s+503\s+\S+\s+the receiver answered 503/);
});

test('a disabled webhook is not tested; bad flags and unknown names say what is wrong', async () => {
  assert.equal((await cli('webhooks', 'create', 'quiet', receiver.url, '--event', 'deployment.failed')).code, 0);
  const disabled = await cli('webhooks', 'disable', 'quiet');
  assert.equal(disabled.code, 0, disabled.output);
  assert.match(disabled.output, /^enabled: false$/m);
  const refused = await cli('webhooks', 'test', 'quiet');
  assert.equal(refused.code, 1);
  assert.match(refused.output, /Webhook 'quiet' is disabled: enable it to send it a test/);
  assert.equal((await cli('webhooks', 'enable', 'quiet')).code, 0);

  const badEvent = await cli('webhooks', 'create', 'bad', receiver.url, '--event', 'deploy.done');
  assert.equal(badEvent.code, 1);
  assert.match(badEvent.output, /body\.events\.0 must be one of: deployment\.started/);
  const badLimit = await cli('webhooks', 'deliveries', 'quiet', '--limit', 'many');
  assert.equal(badLimit.code, 1);
  assert.match(badLimit.output, /--limit must be a whole number of 1 or more, not 'many'/);
  const unknown = await cli('webhooks', 'test', 'nope');
  assert.equal(unknown.code, 1);
  assert.match(unknown.output, /Webhook 'nope' does not exist/);

  assert.equal((await cli('webhooks', 'delete', 'quiet')).code, 0);
  assert.equal((await h.api('GET', '/api/webhooks/quiet')).status, 404);
});

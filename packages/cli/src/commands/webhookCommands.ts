import type { Command } from 'commander';
import type { LongshoreClient, WebhookDelivery, WebhookDeliveryState, WebhookEventName } from '@longshore/client';
import { LongshoreError } from '@longshore/protocol';
import { printList, printObject } from '../output.js';
import { clientFor } from './clientCommands.js';

/** A test waits this long by default: one attempt's timeout (10 s) and a little. */
const DEFAULT_TEST_WAIT_SECONDS = 15;
const POLL_MS = 250;

const positiveInteger = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new LongshoreError('VALIDATION_FAILED', `${flag} must be a whole number of 1 or more, not '${value}'`);
  return n;
};

/** An attempt has ended once the delivery left pending or recorded what the receiver did. */
const attempted = (d: WebhookDelivery) => d.state !== 'pending' || d.lastStatus !== null || d.lastError !== null;

/** What became of a test delivery, in a sentence; and whether it arrived. */
function testOutcome(d: WebhookDelivery, waitedSeconds: number): { text: string; delivered: boolean } {
  if (d.state === 'delivered') return { delivered: true, text: `Delivered: the receiver answered ${d.lastStatus}` };
  if (!attempted(d))
    return {
      delivered: false,
      text: `Not attempted within ${waitedSeconds} s; the delivery is still queued (see longshore webhooks deliveries)`,
    };
  const next = d.state === 'pending' && d.nextAttemptAt ? `; it is tried again at ${d.nextAttemptAt}` : '';
  return { delivered: false, text: `Not delivered: ${d.lastError ?? `the receiver answered ${d.lastStatus}`}${next}` };
}

async function waitForAttempt(client: LongshoreClient, ref: string, id: string, seconds: number) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const delivery = await client.webhooks.delivery(ref, id);
    if (attempted(delivery) || Date.now() >= deadline) return delivery;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export function registerWebhookCommands(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('webhooks: events sent as signed JSON to URLs of yours')
    .argument('[webhook]', 'show one, by name or id')
    .action(async (ref: string | undefined, _opts: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      if (ref) return printObject(await client.webhooks.get(ref), output);
      printList(
        await client.webhooks.list(),
        [
          { header: 'name', value: (w) => w.name },
          { header: 'url', value: (w) => w.url },
          { header: 'events', value: (w) => w.events },
          { header: 'enabled', value: (w) => (w.enabled ? 'yes' : 'no') },
        ],
        output,
      );
    });

  webhooks
    .command('create')
    .argument('<name>')
    // A positional argument: --url is the server's, on every client verb.
    .argument('<url>', 'the http:// or https:// URL deliveries are POSTed to')
    .description('subscribe a URL to events; prints the signing secret, which is not shown again')
    .requiredOption(
      '--event <event...>',
      'deployment.started, deployment.succeeded, deployment.failed, ... (repeatable)',
    )
    .option('--secret <secret>', 'the signing secret (at least 16 characters); default: a random one')
    .option('--disabled', 'create it disabled')
    .action(
      async (
        name: string,
        url: string,
        opts: { event: string[]; secret?: string; disabled?: boolean },
        cmd: Command,
      ) => {
        const { client, output } = clientFor(cmd);
        const created = await client.webhooks.create({
          name,
          url,
          events: opts.event as WebhookEventName[],
          ...(opts.secret ? { secret: opts.secret } : {}),
          enabled: !opts.disabled,
        });
        printObject(created, output);
        if (output !== 'json')
          process.stderr.write(
            'Keep the secret with your receiver: it verifies each delivery by its X-Longshore-Signature. It is not shown again.\n',
          );
      },
    );

  for (const verb of ['enable', 'disable'] as const)
    webhooks
      .command(verb)
      .argument('<webhook>')
      .description(verb === 'enable' ? 'send events again, and what waited' : 'stop sending events for now')
      .action(async (ref: string, _o: unknown, cmd: Command) => {
        const { client, output } = clientFor(cmd);
        const { name, url, events } = await client.webhooks.get(ref);
        printObject(await client.webhooks.update(ref, { name, url, events, enabled: verb === 'enable' }), output);
      });

  webhooks
    .command('delete')
    .argument('<webhook>')
    .description('remove a webhook and its delivery log')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      await clientFor(cmd).client.webhooks.delete(ref);
    });

  webhooks
    .command('deliveries')
    .argument('<webhook>')
    .description("the webhook's deliveries, newest first")
    .option('--limit <n>', 'how many (at most 500)', positiveInteger('--limit'), 50)
    .option('--before <delivery>', 'those older than this delivery: the next page')
    .option('--state <state>', 'only pending, delivered or failed ones')
    .action(
      async (ref: string, opts: { limit: number; before?: string; state?: WebhookDeliveryState }, cmd: Command) => {
        const { client, output } = clientFor(cmd);
        printList(
          await client.webhooks.deliveries(ref, opts),
          [
            { header: 'id', value: (d) => d.id },
            { header: 'event', value: (d) => d.event },
            { header: 'state', value: (d) => d.state },
            { header: 'attempts', value: (d) => d.attempts },
            { header: 'status', value: (d) => d.lastStatus },
            { header: 'created', value: (d) => d.createdAt },
            {
              header: 'why not / next',
              value: (d) => (d.state === 'delivered' ? '' : (d.lastError ?? d.nextAttemptAt)),
            },
          ],
          output,
        );
      },
    );

  webhooks
    .command('test')
    .argument('<webhook>')
    .description('send a sample (ping) delivery and say whether it arrived; exit 2 if it did not')
    .option(
      '--wait <seconds>',
      'how long to wait for the attempt',
      positiveInteger('--wait'),
      DEFAULT_TEST_WAIT_SECONDS,
    )
    .action(async (ref: string, opts: { wait: number }, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      const queued = await client.webhooks.test(ref);
      const delivery = await waitForAttempt(client, ref, queued.id, opts.wait);
      const outcome = testOutcome(delivery, opts.wait);
      if (output === 'json') printObject(delivery, output);
      else process.stdout.write(`${outcome.text} (delivery ${delivery.id})\n`);
      if (!outcome.delivered) process.exitCode = 2;
    });

  webhooks
    .command('redeliver')
    .argument('<webhook>')
    .argument('<delivery>', 'a delivered or failed delivery, by id')
    .description("send a delivery's event again, as a new delivery")
    .action(async (ref: string, id: string, _o: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      printObject(await client.webhooks.redeliver(ref, id), output);
    });
}

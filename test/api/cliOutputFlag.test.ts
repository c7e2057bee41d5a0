// `-o json` is accepted after the verb at every depth, as users write it (`workers token --pool
// default -o json`), not only before a subcommand. Each verb runs as the built CLI against a server.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cliProcess.js';
import { startHarness, type Harness } from '../support/serverHarness.js';

const DOCUMENT = `
environments: [{ name: Staging }]
targets: [{ name: web-1, type: generic, environments: [Staging] }]
projects: [{ name: Shop, process: { steps: [{ name: Build, script: { body: 'echo hi' } }] } }]
`;

describe('-o json after the verb', () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'longshore-output-'));
  const cli = (args: string[]) => runCli([...args, '--url', h.url], { LONGSHORE_API_KEY: h.apiKey });
  /** Verbs run so far, as `workers token`; the last test checks that none is left out. */
  const ran = new Set<string>();
  /** Runs a verb with `-o json` last; its whole output must be one JSON document. */
  const json = async (args: string[]): Promise<any> => {
    ran.add(args[0]!).add(args.slice(0, 2).join(' '));
    const { code, output } = await cli([...args, '-o', 'json']);
    assert.equal(code, 0, `${args.join(' ')}: ${output}`);
    try {
      return JSON.parse(output);
    } catch {
      assert.fail(`longshore ${args.join(' ')} -o json printed no JSON:\n${output}`);
    }
  };

  before(async () => {
    h = await startHarness();
    writeFileSync(join(dir, 'longshore.yaml'), DOCUMENT);
    writeFileSync(join(dir, 'app.txt'), 'app');
    execFileSync('tar', ['-czf', join(dir, 'app.tar.gz'), '-C', dir, 'app.txt']);
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('top-level verbs', async () => {
    assert.deepEqual((await json(['apply', '-f', join(dir, 'longshore.yaml')])).projects, ['Shop']);
    for (const [verb, name] of [
      ['projects', 'Shop'],
      ['environments', 'Staging'],
      ['pools', 'default'],
      ['targets', 'web-1'],
    ] as const) {
      assert.ok(Array.isArray(await json([verb])), verb);
      assert.ok(
        (await json([verb])).some((r: any) => r.name === name),
        verb,
      );
    }
    assert.equal((await json(['projects', 'Shop'])).name, 'Shop');
    assert.ok(Array.isArray(await json(['workers'])));
    const [node] = await json(['server', 'nodes']);
    assert.equal(node.alive, true, JSON.stringify(node));
  });

  test('verbs one level down: workers, release, packages, tasks', async () => {
    assert.match((await json(['workers', 'token', '--pool', 'default'])).token, /\S/);
    assert.match((await json(['workers', 'install-command', '--pool', 'default'])).command, /^helm /);
    assert.equal((await json(['release', 'create', 'Shop', '--version', '1.0.0'])).version, '1.0.0');
    assert.deepEqual(
      (await json(['release', 'list', 'Shop'])).map((r: any) => r.version),
      ['1.0.0'],
    );
    assert.equal(
      (await json(['packages', 'push', join(dir, 'app.tar.gz'), '--id', 'app', '--version', '1.0.0'])).packageId,
      'app',
    );
    assert.deepEqual(
      (await json(['packages', 'list'])).map((r: any) => r.packageId),
      ['app'],
    );

    const { taskId } = await json(['deploy', 'Shop', '--to', 'Staging']);
    assert.ok((await json(['tasks'])).some((t: any) => t.id === taskId));
    assert.equal((await json(['tasks', 'get', taskId])).id, taskId);
    assert.ok(Array.isArray(await json(['tasks', 'log', taskId])));
    assert.equal((await json(['tasks', 'cancel', taskId])).id, taskId);
  });

  test('worker verbs', async () => {
    const { token } = await json(['workers', 'token', '--pool', 'default']);
    const registered = await fetch(h.url + '/api/agent/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, name: 'w-json', executor: 'local', version: '0.1.0', capacity: 1 }),
    });
    assert.equal(registered.status, 201, await registered.text());
    assert.equal((await json(['workers', 'w-json'])).name, 'w-json');
    assert.equal((await json(['workers', 'disable', 'w-json'])).disabled, true);
    assert.equal((await json(['workers', 'enable', 'w-json'])).disabled, false);
    assert.ok((await json(['machine-policies'])).some((p: any) => p.isDefault));
    assert.equal((await json(['machine-policies', 'Default'])).name, 'Default');
    assert.equal((await json(['workers', 'check', 'w-json']))[0].worker, 'w-json');
    assert.ok(Array.isArray(await json(['workers', 'check', '--all'])));
    // A local worker of this version is not behind: the answer says so, with no task.
    assert.equal((await json(['workers', 'upgrade', '--all']))[0].taskId, null);
    // It prints nothing; what matters is that `-o json` after it is accepted.
    ran.add('workers delete');
    assert.equal((await cli(['workers', 'delete', 'w-json', '-o', 'json'])).code, 0);
    assert.equal((await h.api('GET', '/api/workers/w-json')).status, 404);
  });

  test('identity, right-sizing and webhook verbs', async () => {
    assert.ok(Array.isArray(await json(['steps', 'usage', 'Shop'])));
    assert.ok(Array.isArray(await json(['audit', '--limit', '5'])));
    assert.equal((await json(['users', 'create', 'jo'])).name, 'jo');
    assert.ok((await json(['users'])).some((u: any) => u.name === 'jo'));
    assert.ok((await json(['users', 'list'])).some((u: any) => u.name === 'admin'));
    assert.equal((await json(['users', 'disable', 'jo'])).disabled, true);
    assert.equal((await json(['users', 'enable', 'jo'])).disabled, false);
    assert.equal((await json(['users', 'unlock', 'jo'])).lockedUntil, null);
    assert.ok((await json(['teams'])).some((t: any) => t.name === 'Administrators'));
    assert.ok((await json(['roles'])).some((r: any) => r.name === 'Viewer'));
    const key = await json(['api-keys', 'create', 'json-key', '--expires-in-days', '1']);
    assert.ok((await json(['api-keys'])).some((k: any) => k.id === key.id));
    assert.ok((await json(['api-keys', 'list'])).some((k: any) => k.id === key.id));
    assert.deepEqual(await json(['api-keys', 'revoke', key.id]), { id: key.id, revoked: true });

    const receiver = createServer((req, res) => req.resume().on('end', () => res.end('ok')));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      assert.equal(
        (await json(['webhooks', 'create', 'json-hook', url, '--event', 'deployment.failed'])).name,
        'json-hook',
      );
      assert.ok((await json(['webhooks'])).some((w: any) => w.name === 'json-hook'));
      assert.equal((await json(['webhooks', 'disable', 'json-hook'])).enabled, false);
      assert.equal((await json(['webhooks', 'enable', 'json-hook'])).enabled, true);
      const ping = await json(['webhooks', 'test', 'json-hook']);
      assert.equal(ping.state, 'delivered');
      assert.equal((await json(['webhooks', 'redeliver', 'json-hook', ping.id])).event, 'ping');
      assert.ok(Array.isArray(await json(['webhooks', 'deliveries', 'json-hook'])));
      // It prints nothing; what matters is that `-o json` after it is accepted.
      ran.add('webhooks delete');
      assert.equal((await cli(['webhooks', 'delete', 'json-hook', '-o', 'json'])).code, 0);
    } finally {
      receiver.close();
    }
  });

  test('no client verb is left out above', async () => {
    const commandsIn = async (args: string[]) => {
      const { output } = await runCli([...args, '--help']);
      const section = output.split('Commands:\n')[1] ?? '';
      return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    };
    // What runs here rather than calls a server; `server nodes` is the client verb under `server`.
    const services = new Set(['worker', 'sandbox', 'fetch-packages', 'demo', 'migrate']);
    const tops = (await commandsIn([])).filter((c) => !services.has(c));
    assert.ok(tops.includes('workers') && tops.includes('tasks'), tops.join(' '));
    for (const top of tops) {
      const subs = await commandsIn([top]);
      const verbs = subs.length ? subs.map((sub) => `${top} ${sub}`) : [top];
      for (const verb of verbs) assert.ok(ran.has(verb), `longshore ${verb} -o json is not tested`);
    }
  });
});

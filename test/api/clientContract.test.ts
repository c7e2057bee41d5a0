import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { LongshoreClient } from '@longshore/client';
import { isErrorCode } from '@longshore/protocol';
import { startHarness, type Harness } from '../support/serverHarness.js';

/**
 * @longshore/client against the published document of a real server: every method of the client
 * is called, and each call it makes must be a documented operation, with a body its request schema
 * takes and an answer its response schema describes. The client's types are written by hand (the
 * schemas live with the server's routes), so this is what keeps them to the contract.
 */

// ajv-formats ships CommonJS with a default export; under NodeNext the callable is on .default.
const addFormats = addFormatsModule.default;

interface Operation {
  requestBody?: { content: Record<string, { schema?: object }> };
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}

interface Exchange {
  method: string;
  path: string;
  contentType: string | undefined;
  body: unknown;
  status: number;
  responseType: string;
  answer: unknown;
}

let h: Harness;
let doc: { paths: Record<string, Record<string, Operation>> };
const exchanges: Exchange[] = [];
let archive: Buffer;

/** The global fetch, recording each exchange (a stream's answer is not read here: its caller reads it). */
const recordingFetch = async (input: string, init: RequestInit): Promise<Response> => {
  const url = new URL(input);
  const contentType = new Headers(init.headers).get('content-type') ?? undefined;
  const response = await fetch(input, init);
  const responseType = (response.headers.get('content-type') ?? '').split(';')[0]!;
  const answer = responseType === 'application/json' ? await response.clone().json() : undefined;
  exchanges.push({
    method: init.method ?? 'GET',
    path: url.pathname,
    contentType,
    body: contentType === 'application/json' ? JSON.parse(init.body as string) : init.body,
    status: response.status,
    responseType,
    answer,
  });
  return response;
};

before(async () => {
  h = await startHarness({ maxPollWaitMs: 100 });
  doc = (await h.api('GET', '/api/openapi.json')).body;
  const dir = mkdtempSync(join(tmpdir(), 'longshore-client-contract-'));
  writeFileSync(join(dir, 'app.txt'), 'hello');
  execFileSync('tar', ['-czf', join(dir, 'app.tar.gz'), '-C', dir, 'app.txt']);
  archive = readFileSync(join(dir, 'app.tar.gz'));
  rmSync(dir, { recursive: true, force: true });
});
after(() => h.close());

/** The names `group.method` of every method the client offers, and a client that notes each one called. */
function instrumented(client: LongshoreClient): { called: Set<string>; offered: string[] } {
  const called = new Set<string>();
  const offered: string[] = [];
  const wrap = (owner: object, name: string, label: string) => {
    const method = (owner as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
    offered.push(label);
    Object.defineProperty(owner, name, {
      value: (...args: unknown[]) => {
        called.add(label);
        return method.apply(owner, args);
      },
    });
  };
  const methodsOf = (object: object): string[] => {
    const names = new Set<string>();
    for (let proto = Object.getPrototypeOf(object); proto !== Object.prototype; proto = Object.getPrototypeOf(proto))
      for (const name of Object.getOwnPropertyNames(proto))
        if (
          name !== 'constructor' &&
          name !== 'pathOf' &&
          typeof Object.getOwnPropertyDescriptor(proto, name)?.value === 'function'
        )
          names.add(name);
    return [...names];
  };
  for (const name of methodsOf(client)) wrap(client, name, name);
  for (const [group, api] of Object.entries(client))
    if (typeof api === 'object' && api !== null) for (const name of methodsOf(api)) wrap(api, name, `${group}.${name}`);
  return { called, offered };
}

test('every call the client makes is a documented operation, with bodies its schemas describe', async () => {
  const client = new LongshoreClient({ url: h.url, apiKey: h.apiKey, fetch: recordingFetch });
  const { called, offered } = instrumented(client);

  const info = await client.serverInfo();
  assert.equal(info.url, h.url);
  assert.deepEqual(await client.signInMethods(), { singleSignOn: null });
  await client.apply({
    environments: [{ name: 'Contract' }],
    workerPools: [{ name: 'contract-pool', description: 'for the contract' }],
    targets: [{ name: 'contract-target', type: 'generic', environments: ['Contract'], tags: ['web'] }],
    projects: [
      {
        name: 'Contract',
        process: { steps: [{ name: 'say', script: { body: 'echo hi' }, packages: [{ packageId: 'contract' }] }] },
        variables: [{ name: 'Greeting', value: 'hi' }],
      },
    ],
  });
  const pushed = await client.packages.push('contract', '1.0.0', new Uint8Array(archive), 'application/gzip');
  assert.equal(pushed.format, 'tar.gz');
  assert.deepEqual(
    (await client.packages.list()).map((p) => p.packageId),
    ['contract'],
  );
  for (const kind of [client.projects, client.environments, client.workerPools, client.targets] as const) {
    const [first] = await kind.list();
    assert.ok(first);
    assert.equal((await kind.get(first.name)).id, first.id);
  }

  const made = await client.projects.create({
    name: 'Made by the client',
    process: { steps: [{ name: 'One', script: { body: 'echo 1' } }] },
  });
  assert.equal(made.process.steps.length, 1);
  await assert.rejects(client.projects.create({ name: 'Made by the client' }), (e) => isErrorCode(e, 'CONFLICT'));
  const reordered = await client.projects.updateProcess('Made by the client', {
    steps: [
      { name: 'Two', script: { body: 'echo 2' }, timeoutSeconds: 60, resources: { requests: { cpu: '100m' } } },
      { name: 'One', script: { body: 'echo 1' } },
    ],
  });
  assert.deepEqual(
    reordered.process.steps.map((s) => s.name),
    ['Two', 'One'],
  );
  await client.projects.setVariables('Made by the client', [
    { name: 'Token', value: 'secret', sensitive: true, scope: { environments: ['Contract'] } },
    { name: 'Greeting', value: 'hi' },
  ]);
  assert.deepEqual(
    (await client.projects.variables('Made by the client')).map((v) => [v.name, v.value, v.scope]),
    [
      ['Token', null, { environments: ['Contract'] }],
      ['Greeting', 'hi', {}],
    ],
  );
  const [usage] = await client.projects.stepUsage('Made by the client');
  assert.equal(usage?.recommendation.state, 'learning', 'no run measured yet');

  const release = await client.releases.create('Contract', { notes: 'contract' });
  assert.deepEqual(
    (await client.releases.list('Contract')).map((r) => r.id),
    [release.id],
  );
  const { token } = await client.workers.createRegistrationToken({ pools: ['default'], expiresInMinutes: 5 });
  const registered = await h.api('POST', '/api/agent/register', {
    token,
    name: 'contract-worker',
    executor: 'local',
    version: 'contract',
    capacity: 1,
  });
  assert.equal(registered.status, 201);
  assert.equal((await client.workers.list())[0]?.name, 'contract-worker');
  assert.equal((await client.workers.get('contract-worker')).executor, 'local');
  assert.equal((await client.workers.disable('contract-worker')).disabled, true);
  assert.equal((await client.workers.enable('contract-worker')).disabled, false);
  const policy = await client.machinePolicies.create({ name: 'contract-policy', healthCheckTimeoutSeconds: 30 });
  assert.equal((await client.machinePolicies.get('contract-policy')).id, policy.id);
  assert.ok((await client.machinePolicies.list()).some((p) => p.isDefault));
  assert.equal(
    (await client.machinePolicies.update('contract-policy', { name: 'contract-policy', updates: 'never' })).updates,
    'never',
  );
  assert.equal(
    (await client.workers.setMachinePolicy('contract-worker', 'contract-policy')).machinePolicy,
    'contract-policy',
  );
  await assert.rejects(client.machinePolicies.delete('contract-policy'), (e) => isErrorCode(e, 'CONFLICT'));
  await client.workers.setMachinePolicy('contract-worker', null);
  await client.machinePolicies.delete('contract-policy');
  const check = await client.workers.check('contract-worker');
  assert.deepEqual(
    (await client.workers.checkAll()).map((c) => c.checkId),
    [check.checkId],
  );
  await assert.rejects(client.workers.upgrade('contract-worker'), (e) => isErrorCode(e, 'CONFLICT'));
  assert.deepEqual(
    (await client.workers.upgradeAll()).map((u) => [u.worker, u.taskId]),
    [['contract-worker', null]],
  );
  const pools = await client.poolStatistics();
  assert.equal(pools.find((p) => p.pool === 'default')?.workersByHealth.unknown, 1);
  const [node, ...otherNodes] = await client.serverNodes();
  assert.deepEqual([node?.alive, otherNodes], [true, []]);
  await client.workers.delete('contract-worker');
  const install = await client.workers.installCommand({ pools: ['default'], values: { 'image.tag': 'x' } });
  assert.equal(install.reinstall, false);

  // No worker polls: the deployment waits, and is cancelled.
  const deployment = await client.deployments.create({ project: 'Contract', environment: 'Contract' });
  assert.deepEqual(
    (await client.deployments.list({ project: 'Contract' })).map((d) => d.id),
    [deployment.id],
  );
  assert.equal(deployment.releaseVersion, release.version);
  const task = await client.tasks.get(deployment.taskId);
  assert.deepEqual([task.id, task.project, task.environment], [deployment.taskId, 'Contract', 'Contract']);
  assert.ok((await client.tasks.list()).some((t) => t.id === deployment.taskId));
  await client.tasks.cancel(deployment.taskId);
  const lines: string[] = [];
  assert.equal(await client.tasks.follow(deployment.taskId, { onLine: (l) => lines.push(l.text) }), 'cancelled');
  assert.ok((await client.tasks.list({ state: 'cancelled' })).some((t) => t.id === deployment.taskId));
  const page = await client.tasks.logPage(deployment.taskId);
  assert.deepEqual(
    page.lines.map((l) => l.text),
    lines,
  );
  await assert.rejects(client.tasks.cancel(deployment.taskId), (e) => isErrorCode(e, 'CONFLICT'));

  // fetch refuses the discard port, so the ping's attempt fails and it waits for the next: it cannot be redelivered yet.
  const hook = await client.webhooks.create({
    name: 'contract-hook',
    url: 'http://127.0.0.1:9/contract',
    events: ['deployment.failed'],
  });
  assert.ok(hook.secret);
  assert.equal((await client.webhooks.get('contract-hook')).id, hook.id);
  assert.deepEqual(
    (await client.webhooks.list()).map((w) => [w.name, w.enabled]),
    [['contract-hook', true]],
  );
  const updated = await client.webhooks.update('contract-hook', {
    name: 'contract-hook',
    url: hook.url,
    events: ['deployment.failed', 'worker.unhealthy'],
  });
  assert.deepEqual(updated.events, ['deployment.failed', 'worker.unhealthy']);
  const ping = await client.webhooks.test('contract-hook');
  assert.equal((await client.webhooks.delivery('contract-hook', ping.id)).event, 'ping');
  assert.deepEqual(
    (await client.webhooks.deliveries('contract-hook', { limit: 10, state: 'pending' })).map((d) => d.id),
    [ping.id],
  );
  await assert.rejects(client.webhooks.redeliver('contract-hook', ping.id), (e) => isErrorCode(e, 'CONFLICT'));
  await client.webhooks.delete('contract-hook');

  const asUser = await identityCalls(client);
  assert.deepEqual(
    offered.filter((name) => !called.has(name) && !asUser.has(name)),
    [],
    'every method of the client is called above',
  );
  checkAgainstDocument();
});

/**
 * Users, teams, roles and the audit log as the admin; signing in, the caller, keys and signing
 * out as a user of a password, whose client is made without a key. Answers the methods the
 * user's client called.
 */
async function identityCalls(admin: LongshoreClient): Promise<Set<string>> {
  assert.equal((await admin.me()).name, 'admin');
  const catalogue = await admin.roles.list();
  assert.ok(catalogue.roles.some((r) => r.name === 'Deployer' && r.builtIn));
  assert.ok(catalogue.permissions.some((p) => p.name === 'deployment:create'));
  const password = 'contract-password';
  const user = await admin.users.create({ name: 'contract-user', password });
  assert.equal((await admin.users.get('contract-user')).id, user.id);
  assert.ok((await admin.users.list()).some((u) => u.id === user.id));
  const grant = { role: 'Deployer', projects: ['Contract'], environments: ['Contract'] };
  const team = await admin.teams.create({ name: 'contract-team', members: ['contract-user'], roles: [grant] });
  assert.deepEqual(team.roles, [grant]);
  assert.equal((await admin.teams.get('contract-team')).id, team.id);
  assert.ok((await admin.teams.list()).some((t) => t.id === team.id));

  const signedIn = await new LongshoreClient({ url: h.url, fetch: recordingFetch }).sessions.signIn(
    'contract-user',
    password,
  );
  assert.equal(signedIn.user.name, 'contract-user');
  const client = new LongshoreClient({ url: h.url, apiKey: signedIn.token, fetch: recordingFetch });
  const { called } = instrumented(client);
  const me = await client.me();
  assert.deepEqual(
    [me.via, me.grants],
    ['session', [{ team: 'contract-team', ...grant, permissions: me.grants[0]!.permissions }]],
  );
  assert.ok(me.grants[0]!.permissions.includes('deployment:create'));
  const key = await client.apiKeys.create({ name: 'contract-key', expiresInDays: 1, permissions: ['project:view'] });
  assert.match(key.key, /^lsk_/);
  assert.deepEqual(
    (await client.apiKeys.list()).map((k) => [k.name, k.permissions]),
    [['contract-key', ['project:view']]],
  );
  await client.apiKeys.revoke(key.id);
  await client.sessions.signOut();
  await assert.rejects(client.me(), (e) => isErrorCode(e, 'UNAUTHENTICATED'));
  await assert.rejects(admin.sessions.signIn('contract-user', 'not the password'), (e) =>
    isErrorCode(e, 'UNAUTHENTICATED'),
  );

  assert.equal((await admin.users.update('contract-user', { disabled: true })).disabled, true);
  const newest = await admin.audit({ actor: 'contract-user', limit: 2 });
  assert.deepEqual(
    newest.map((e) => e.action),
    ['failed sign-in', 'DELETE /api/sessions/current'],
  );
  const older = await admin.audit({ actor: 'contract-user', before: newest[1]!.id, limit: 1 });
  assert.equal(older[0]?.action, 'DELETE /api/api-keys/:id');
  await admin.teams.update('contract-team', { name: 'contract-team', roles: [] });
  await admin.teams.delete('contract-team');
  await admin.users.delete('contract-user');
  await assert.rejects(admin.users.get('contract-user'), (e) => isErrorCode(e, 'NOT_FOUND'));
  return called;
}

function checkAgainstDocument(): void {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const compiled = new Map<object, ValidateFunction>();
  const check = (schema: object | undefined, value: unknown, what: string) => {
    if (!schema) return;
    if (!compiled.has(schema)) compiled.set(schema, ajv.compile(schema));
    const validate = compiled.get(schema)!;
    assert.ok(validate(value), `${what}: ${ajv.errorsText(validate.errors)}`);
  };
  const templates = Object.keys(doc.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));
  for (const exchange of exchanges) {
    const call = `${exchange.method} ${exchange.path}`;
    // A literal path wins over a template that also matches it (/api/workers/install-command, /api/workers/{ref}).
    const matching = templates
      .filter(
        ({ template, pattern }) => pattern.test(exchange.path) && doc.paths[template]![exchange.method.toLowerCase()],
      )
      .sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
    assert.ok(matching[0], `${call} is not a documented operation`);
    const template = matching[0].template;
    const operation = doc.paths[template]![exchange.method.toLowerCase()]!;
    const what = `${exchange.method} ${template}`;
    if (exchange.body !== undefined) {
      const content = operation.requestBody?.content ?? {};
      assert.ok(
        exchange.contentType && exchange.contentType in content,
        `${what} documents no ${exchange.contentType} body`,
      );
      if (exchange.contentType === 'application/json')
        check(content['application/json']!.schema, exchange.body, `${what} request`);
    }
    const response = operation.responses[String(exchange.status)];
    assert.ok(response, `${what} does not document the status ${exchange.status} it answered`);
    if (exchange.responseType === 'application/json')
      check(response.content?.['application/json']?.schema, exchange.answer, `${what} ${exchange.status} answer`);
  }
}

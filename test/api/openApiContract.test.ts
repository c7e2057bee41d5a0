import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';

/**
 * The published document against the server, without a fuzzer: a walk through every operation
 * records the statuses the server really answers, and each must be documented; every documented
 * success status must be one the walk saw. (openapiFuzz.test.ts does the same with schemathesis.)
 */

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: any }> }>;
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: any }> };
  parameters?: { in: string; name: string; schema: any }[];
}

let h: Harness;
let doc: { paths: Record<string, Record<string, Operation>> };
const seen = new Map<string, Map<number, string>>();
let archive: Buffer;

before(async () => {
  // One attempt per webhook delivery: the walk's delivery fails at once, so it can be redelivered.
  h = await startHarness({ maxPollWaitMs: 100, leaseMs: 5_000, webhookMaxAttempts: 1 });
  doc = (await h.api('GET', '/api/openapi.json')).body;
  const dir = mkdtempSync(join(tmpdir(), 'longshore-walk-'));
  writeFileSync(join(dir, 'app.txt'), 'hello');
  execFileSync('tar', ['-czf', join(dir, 'app.tar.gz'), '-C', dir, 'app.txt']);
  archive = readFileSync(join(dir, 'app.tar.gz'));
  rmSync(dir, { recursive: true, force: true });
});
after(() => h.close());

const operationOf = (method: string, template: string) => doc.paths[template]?.[method.toLowerCase()];

/** Calls `template` (`/api/projects/{ref}`) with its parameters filled in, and records the answer's status. */
async function call(
  method: string,
  template: string,
  options: {
    params?: Record<string, string>;
    body?: unknown;
    raw?: Buffer;
    contentType?: string;
    bearer?: string;
    query?: string;
  } = {},
): Promise<{ status: number; body: any; contentType: string }> {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(options.params?.[name] ?? 'missing'),
  );
  const headers: Record<string, string> = { authorization: `Bearer ${options.bearer ?? h.apiKey}` };
  let body: string | Buffer | undefined;
  if (options.raw) [body, headers['content-type']] = [options.raw, options.contentType ?? 'application/octet-stream'];
  else if (options.body !== undefined)
    [body, headers['content-type']] = [JSON.stringify(options.body), 'application/json'];
  // Redirects are answers to record, not to follow (single sign-on sends the browser on).
  const res = await fetch(`${h.url}${path}${options.query ?? ''}`, {
    method,
    headers,
    redirect: 'manual',
    ...(body !== undefined ? { body } : {}),
  });
  const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!;
  const text = await res.text();
  const key = `${method} ${template}`;
  if (!seen.has(key)) seen.set(key, new Map());
  seen.get(key)!.set(res.status, contentType);
  return {
    status: res.status,
    body: contentType === 'application/json' && text ? JSON.parse(text) : text,
    contentType,
  };
}

async function expect(status: number, method: string, template: string, options: Parameters<typeof call>[2] = {}) {
  const res = await call(method, template, options);
  assert.equal(res.status, status, `${method} ${template}: ${JSON.stringify(res.body)}`);
  return res.body;
}

test('a walk through every operation answers only documented statuses, and every documented success', async () => {
  await expect(201, 'POST', '/api/environments', { body: { name: 'Walk' } });
  const invalid = await expect(400, 'POST', '/api/environments', { body: { name: 5 } });
  assert.deepEqual(invalid.details, { problems: ['body.name must be string'] });
  await expect(201, 'POST', '/api/worker-pools', { body: { name: 'walk-pool' } });
  await expect(201, 'POST', '/api/targets', { body: { name: 'walk-target', type: 'generic', environments: ['Walk'] } });
  await expect(201, 'POST', '/api/packages/{packageId}/{version}', {
    params: { packageId: 'walk', version: '1.0.0' },
    raw: archive,
    contentType: 'application/gzip',
  });
  const process = { steps: [{ name: 'say', script: { body: 'echo hi' }, packages: [{ packageId: 'walk' }] }] };
  await expect(201, 'POST', '/api/projects', { body: { name: 'Walk', process } });
  for (const [list, ref] of [
    ['/api/environments', 'Walk'],
    ['/api/worker-pools', 'walk-pool'],
    ['/api/targets', 'walk-target'],
    ['/api/projects', 'Walk'],
  ] as const) {
    await expect(200, 'GET', list);
    await expect(200, 'GET', `${list}/{ref}`, { params: { ref } });
  }
  await expect(200, 'PUT', '/api/environments/{ref}', {
    params: { ref: 'Walk' },
    body: { name: 'Walk', description: 'walked' },
  });
  await expect(200, 'PUT', '/api/worker-pools/{ref}', { params: { ref: 'walk-pool' }, body: { name: 'walk-pool' } });
  await expect(200, 'PUT', '/api/targets/{ref}', {
    params: { ref: 'walk-target' },
    body: { name: 'walk-target', type: 'generic', environments: ['Walk'] },
  });
  await expect(200, 'PUT', '/api/projects/{ref}/process', { params: { ref: 'Walk' }, body: process });
  await expect(204, 'PUT', '/api/projects/{ref}/variables', {
    params: { ref: 'Walk' },
    body: [{ name: 'Greeting', value: 'hi' }],
  });
  await expect(200, 'GET', '/api/projects/{ref}/variables', { params: { ref: 'Walk' } });
  await expect(200, 'GET', '/api/projects/{ref}/steps/usage', { params: { ref: 'Walk' } });
  await expect(200, 'GET', '/api/packages');
  await expect(200, 'GET', '/api/packages/{packageId}/{version}/content', {
    params: { packageId: 'walk', version: '1.0.0' },
  });
  const release = await expect(201, 'POST', '/api/projects/{ref}/releases', { params: { ref: 'Walk' }, body: {} });
  await expect(200, 'GET', '/api/projects/{ref}/releases', { params: { ref: 'Walk' } });
  await expect(200, 'GET', '/api/releases/{id}', { params: { id: release.id } });

  const { token } = await expect(201, 'POST', '/api/registration-tokens', { body: {} });
  await expect(201, 'POST', '/api/workers/install-command', { body: { pools: ['default'] } });
  const worker = await expect(201, 'POST', '/api/agent/register', {
    body: { token, name: 'walker', executor: 'local', version: 'walk', capacity: 1 },
  });
  const asWorker = { bearer: worker.credential as string };
  await expect(204, 'PUT', '/api/agent/worker', { ...asWorker, body: { version: 'walk', capacity: 1, metadata: {} } });

  const deployment = await expect(201, 'POST', '/api/deployments', { body: { project: 'Walk', environment: 'Walk' } });
  await expect(200, 'GET', '/api/deployments', { query: '?project=Walk' });
  await expect(200, 'GET', '/api/pool-statistics');
  await expect(200, 'GET', '/api/server-nodes');
  const polled = await expect(200, 'POST', '/api/agent/poll', {
    ...asWorker,
    body: { free: 1, running: [], waitMs: 100 },
  });
  const operation = polled.operations[0];
  assert.ok(operation, `no operation: ${JSON.stringify(polled)}`);
  const op = { id: operation.id as string };
  await expect(200, 'GET', '/api/agent/operations/{id}', { ...asWorker, params: op });
  const packageToken = await expect(200, 'POST', '/api/agent/operations/{id}/package-token', {
    ...asWorker,
    params: op,
  });
  await expect(200, 'GET', '/api/agent/packages/{packageId}/{version}/content', {
    bearer: packageToken.token,
    params: { packageId: 'walk', version: '1.0.0' },
  });
  await expect(200, 'POST', '/api/agent/operations/{id}/logs', {
    ...asWorker,
    params: op,
    body: { lines: [{ seq: 1, stream: 'stdout', ts: Date.now(), text: 'hi' }] },
  });
  // Error responses are serialized by their documented schema too: the structured details must survive it.
  const gap = await expect(409, 'POST', '/api/agent/operations/{id}/complete', {
    ...asWorker,
    params: op,
    body: { outcome: 'succeeded', message: '', outputVariables: [], finalSeq: 2 },
  });
  assert.deepEqual(gap, { code: 'LOG_GAP', message: gap.message, details: { expectedSeq: 2 } });
  await expect(204, 'POST', '/api/agent/operations/{id}/complete', {
    ...asWorker,
    params: op,
    body: { outcome: 'succeeded', exitCode: 0, message: '', outputVariables: [], finalSeq: 1 },
  });

  const task = { id: deployment.taskId as string };
  await waitForEnd(task.id);
  await expect(200, 'GET', '/api/tasks');
  await expect(200, 'GET', '/api/tasks/{id}', { params: task });
  await expect(200, 'GET', '/api/tasks/{id}/log', { params: task });
  await expect(200, 'GET', '/api/tasks/{id}/log/stream', { params: task });
  await expect(409, 'POST', '/api/tasks/{id}/cancel', { params: task });
  const second = await expect(201, 'POST', '/api/deployments', { body: { project: 'Walk', environment: 'Walk' } });
  await expect(202, 'POST', '/api/tasks/{id}/cancel', { params: { id: second.taskId } });

  await expect(200, 'GET', '/api/workers');
  await expect(200, 'GET', '/api/workers/{ref}', { params: { ref: 'walker' } });
  await expect(200, 'POST', '/api/workers/{ref}/disable', { params: { ref: 'walker' } });
  await expect(200, 'POST', '/api/workers/{ref}/enable', { params: { ref: 'walker' } });
  await expect(201, 'POST', '/api/machine-policies', { body: { name: 'walk-policy' } });
  await expect(200, 'GET', '/api/machine-policies');
  await expect(200, 'GET', '/api/machine-policies/{ref}', { params: { ref: 'walk-policy' } });
  await expect(200, 'PUT', '/api/machine-policies/{ref}', {
    params: { ref: 'walk-policy' },
    body: { name: 'walk-policy', unavailableWorkers: { action: 'delete', deleteAfterHours: 1 } },
  });
  await expect(200, 'PUT', '/api/workers/{ref}/machine-policy', {
    params: { ref: 'walker' },
    body: { machinePolicy: 'walk-policy' },
  });
  await expect(409, 'DELETE', '/api/machine-policies/{ref}', { params: { ref: 'walk-policy' } });
  await expect(200, 'PUT', '/api/workers/{ref}/machine-policy', {
    params: { ref: 'walker' },
    body: { machinePolicy: null },
  });
  await expect(204, 'DELETE', '/api/machine-policies/{ref}', { params: { ref: 'walk-policy' } });
  const check = await expect(202, 'POST', '/api/workers/{ref}/health-checks', { params: { ref: 'walker' } });
  await expect(202, 'POST', '/api/workers/health-checks');
  await expect(200, 'POST', '/api/agent/poll', { ...asWorker, body: { free: 1, running: [], waitMs: 0 } });
  await expect(204, 'POST', '/api/agent/health-checks/{id}', {
    ...asWorker,
    params: { id: check.checkId },
    body: { checks: [{ name: 'walk', ok: true, detail: 'walked' }], facts: { version: 'walk' } },
  });
  const { token: upgradeeToken } = await expect(201, 'POST', '/api/registration-tokens', { body: {} });
  const upgradee = await expect(201, 'POST', '/api/agent/register', {
    body: {
      token: upgradeeToken,
      name: 'upgradee',
      executor: 'kubernetes',
      version: '0.0.1',
      capacity: 1,
      metadata: { namespace: 'walk', helmRelease: 'longshore-worker-upgradee', chartVersion: '0.0.1' },
    },
  });
  const asUpgradee = { bearer: upgradee.credential as string };
  const upgrade = await expect(202, 'POST', '/api/workers/{ref}/upgrades', { params: { ref: 'upgradee' } });
  await expect(409, 'POST', '/api/workers/{ref}/upgrades', { params: { ref: 'walker' } });
  await expect(202, 'POST', '/api/workers/upgrades');
  await expect(409, 'POST', '/api/tasks/{id}/cancel', { params: { id: upgrade.taskId } });
  const given = await expect(200, 'POST', '/api/agent/poll', {
    ...asUpgradee,
    body: { free: 1, running: [], waitMs: 0 },
  });
  const [chart] = given.operations[0].packages;
  await expect(200, 'GET', '/api/agent/worker-chart/{version}', { ...asUpgradee, params: { version: chart.version } });
  await expect(404, 'GET', '/api/agent/worker-chart/{version}', { ...asUpgradee, params: { version: '0.0.0' } });
  await expect(204, 'POST', '/api/agent/worker/offline', asWorker);
  await expect(204, 'DELETE', '/api/workers/{ref}', { params: { ref: 'walker' } });
  await expect(401, 'POST', '/api/agent/poll', { ...asWorker, body: { free: 1, running: [], waitMs: 0 } });

  await expect(200, 'GET', '/api/server');
  // Single sign-on is not configured here: its routes send the browser to the sign-in page with why.
  await expect(200, 'GET', '/api/sessions/methods');
  await expect(302, 'GET', '/api/sessions/oidc/start', { query: '?returnTo=/projects' });
  await expect(400, 'GET', '/api/sessions/oidc/start', { query: '?returnTo=https://evil.example/' });
  await expect(302, 'GET', '/api/sessions/oidc/callback', { query: '?code=c&state=s' });
  await expect(200, 'POST', '/api/apply', { body: { environments: [{ name: 'Walk' }] } });
  await expect(200, 'GET', '/api/api-keys');
  const key = await expect(201, 'POST', '/api/api-keys', { body: { name: 'walk' } });
  await expect(204, 'DELETE', '/api/api-keys/{id}', { params: { id: key.id } });
  await expect(404, 'DELETE', '/api/api-keys/{id}', { params: { id: key.id } });

  await expect(200, 'GET', '/api/roles');
  await expect(201, 'POST', '/api/roles', { body: { name: 'walk-role', permissions: ['project:view'] } });
  await expect(200, 'GET', '/api/roles/{ref}', { params: { ref: 'walk-role' } });
  await expect(200, 'PUT', '/api/roles/{ref}', {
    params: { ref: 'walk-role' },
    body: { name: 'walk-role', permissions: ['project:view', 'task:view', 'variable:view-sensitive'] },
  });
  await expect(409, 'PUT', '/api/roles/{ref}', {
    params: { ref: 'Viewer' },
    body: { name: 'Viewer', permissions: [] },
  });
  await expect(201, 'POST', '/api/users', { body: { name: 'walker', password: 'a walk in the park' } });
  await expect(200, 'GET', '/api/users');
  await expect(200, 'GET', '/api/users/{ref}', { params: { ref: 'walker' } });
  await expect(201, 'POST', '/api/teams', {
    body: { name: 'walk-team', members: ['walker'], roles: [{ role: 'walk-role', projects: ['Walk'] }] },
  });
  await expect(200, 'GET', '/api/teams');
  await expect(200, 'GET', '/api/teams/{ref}', { params: { ref: 'walk-team' } });
  await expect(200, 'PUT', '/api/teams/{ref}', {
    params: { ref: 'walk-team' },
    body: { name: 'walk-team', roles: [{ role: 'walk-role', environments: ['Walk'] }] },
  });
  await expect(200, 'PUT', '/api/users/{ref}', { params: { ref: 'walker' }, body: { displayName: 'Walker' } });
  await expect(401, 'POST', '/api/sessions', { body: { name: 'walker', password: 'not the password' } });
  const session = await expect(201, 'POST', '/api/sessions', {
    body: { name: 'walker', password: 'a walk in the park' },
  });
  const asWalker = { bearer: session.token as string };
  await expect(200, 'GET', '/api/me', asWalker);
  await expect(200, 'GET', '/api/projects/{ref}/variables/sensitive', { ...asWalker, params: { ref: 'Walk' } });
  await expect(403, 'GET', '/api/projects/{ref}/variables/sensitive', { params: { ref: 'Walk' } });
  await expect(403, 'GET', '/api/workers', asWalker);
  const walkerKey = await expect(201, 'POST', '/api/api-keys', { ...asWalker, body: { name: 'walker-key' } });
  await expect(200, 'GET', '/api/users/{ref}/api-keys', { params: { ref: 'walker' } });
  await expect(204, 'DELETE', '/api/users/{ref}/api-keys/{id}', { params: { ref: 'walker', id: walkerKey.id } });
  await expect(204, 'DELETE', '/api/sessions/current', asWalker);
  await expect(401, 'GET', '/api/me', asWalker);
  await expect(200, 'GET', '/api/audit', { query: '?actor=walker&limit=5' });
  await expect(409, 'DELETE', '/api/roles/{ref}', { params: { ref: 'walk-role' } });
  await expect(204, 'DELETE', '/api/teams/{ref}', { params: { ref: 'walk-team' } });
  await expect(204, 'DELETE', '/api/roles/{ref}', { params: { ref: 'walk-role' } });
  await expect(204, 'DELETE', '/api/users/{ref}', { params: { ref: 'walker' } });

  // fetch refuses the discard port: the attempt fails at once.
  const hook = { body: { name: 'walk-hook', url: 'http://127.0.0.1:9/walk', events: ['deployment.failed'] } };
  await expect(201, 'POST', '/api/webhooks', hook);
  await expect(409, 'POST', '/api/webhooks', hook);
  await expect(400, 'POST', '/api/webhooks', { body: { ...hook.body, events: ['nothing'] } });
  await expect(200, 'GET', '/api/webhooks');
  await expect(200, 'GET', '/api/webhooks/{ref}', { params: { ref: 'walk-hook' } });
  await expect(200, 'PUT', '/api/webhooks/{ref}', { params: { ref: 'walk-hook' }, body: hook.body });
  const ping = await expect(202, 'POST', '/api/webhooks/{ref}/test', { params: { ref: 'walk-hook' } });
  const delivery = { ref: 'walk-hook', id: ping.id as string };
  for (let i = 0; i < 100; i++) {
    const seen = await expect(200, 'GET', '/api/webhooks/{ref}/deliveries/{id}', { params: delivery });
    if (seen.state === 'failed') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await expect(202, 'POST', '/api/webhooks/{ref}/deliveries/{id}/redeliver', { params: delivery });
  await expect(200, 'GET', '/api/webhooks/{ref}/deliveries', { params: { ref: 'walk-hook' }, query: '?limit=5' });
  await expect(404, 'GET', '/api/webhooks/{ref}/deliveries/{id}', { params: { ref: 'walk-hook', id: 'whd-none' } });
  await expect(204, 'DELETE', '/api/webhooks/{ref}', { params: { ref: 'walk-hook' } });
  await expect(404, 'POST', '/api/webhooks/{ref}/test', { params: { ref: 'walk-hook' } });

  await expect(409, 'DELETE', '/api/environments/{ref}', { params: { ref: 'Walk' } });
  await expect(204, 'DELETE', '/api/targets/{ref}', { params: { ref: 'walk-target' } });
  await expect(204, 'DELETE', '/api/worker-pools/{ref}', { params: { ref: 'walk-pool' } });
  await waitForEnd(second.taskId);
  await expect(204, 'DELETE', '/api/projects/{ref}', { params: { ref: 'Walk' } });
  await expect(204, 'DELETE', '/api/environments/{ref}', { params: { ref: 'Walk' } });
  await expect(400, 'POST', '/api/packages/{packageId}/{version}', {
    params: { packageId: 'walk', version: 'latest' },
    raw: archive,
  });
  await expect(415, 'POST', '/api/packages/{packageId}/{version}', {
    params: { packageId: 'walk', version: '1.0.1' },
    raw: archive,
    contentType: 'text/plain',
  });
  await expect(422, 'POST', '/api/packages/{packageId}/{version}', {
    params: { packageId: 'walk', version: '1.0.1' },
    raw: Buffer.from('not an archive'),
  });
  await expect(401, 'POST', '/api/agent/register', {
    body: { token, name: 'again', executor: 'local', version: 'walk', capacity: 1 },
  });

  const undocumented: string[] = [];
  for (const [key, statuses] of seen) {
    const [method, template] = key.split(' ') as [string, string];
    const documented = operationOf(method, template);
    assert.ok(documented, `${key} is not in the document`);
    for (const [status, contentType] of statuses) {
      const response = documented.responses[String(status)];
      if (!response)
        undocumented.push(`${key} answered ${status}, documented: ${Object.keys(documented.responses).join(', ')}`);
      else if (contentType && status !== 204 && !(contentType in (response.content ?? {})))
        undocumented.push(
          `${key} answered ${status} as ${contentType}, documented: ${Object.keys(response.content ?? {}).join(', ')}`,
        );
    }
  }
  assert.deepEqual(undocumented, []);
  const unseen: string[] = [];
  for (const [template, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const key = `${method.toUpperCase()} ${template}`;
      for (const status of Object.keys(operation.responses).filter((s) => s.startsWith('2'))) {
        if (!seen.get(key)?.has(Number(status)))
          unseen.push(
            `${key} documents ${status}; the walk saw ${[...(seen.get(key)?.keys() ?? [])].join(', ') || 'nothing'}`,
          );
      }
    }
  }
  assert.deepEqual(unseen, []);
});

async function waitForEnd(taskId: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { body } = await h.api('GET', `/api/tasks/${taskId}`);
    if (!['queued', 'running', 'cancelling'].includes(body.state)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`task ${taskId} did not end`);
}

test("each operation's security is who the server lets call it", () => {
  const schemes: Record<string, string[]> = {
    public: [],
    user: ['apiKey', 'session'],
    worker: ['workerCredential'],
    workerOrPackageToken: ['workerCredential', 'packageToken'],
  };
  for (const route of h.server.routes) {
    const operation = operationOf(route.method, route.url.replace(/:(\w+)/g, '{$1}'));
    if (!operation) continue;
    assert.deepEqual(
      (operation.security ?? []).flatMap((s) => Object.keys(s)),
      schemes[route.access],
      `${route.method} ${route.url}`,
    );
  }
  assert.deepEqual(operationOf('POST', '/api/agent/register')?.security, []);
});

test('every error is documented in the one error shape, with the codes of its status', () => {
  for (const [template, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
      assert.ok(errors.length > 0, `${method} ${template} documents no error`);
      for (const [status, response] of errors) {
        const schema = response.content?.['application/json']?.schema;
        assert.deepEqual(schema?.required, ['code', 'message'], `${method} ${template} ${status}`);
        assert.ok(schema.properties.code.enum.length > 0, `${method} ${template} ${status}: no codes`);
      }
    }
  }
});

test('no request field the server fills in with a default is documented as required', () => {
  const problems: string[] = [];
  const visit = (schema: any, where: string): void => {
    if (typeof schema !== 'object' || schema === null) return;
    for (const name of Array.isArray(schema.required) ? schema.required : [])
      if (schema.properties?.[name]?.default !== undefined) problems.push(`${where}.${name}`);
    for (const [key, value] of Object.entries(schema)) visit(value, `${where}.${key}`);
  };
  for (const [template, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      visit(operation.requestBody, `${method} ${template} body`);
      visit(operation.parameters, `${method} ${template} parameters`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the package upload documents its archive body and a semantic version', () => {
  const upload = operationOf('POST', '/api/packages/{packageId}/{version}')!;
  assert.deepEqual(Object.keys(upload.requestBody?.content ?? {}).sort(), [
    'application/gzip',
    'application/octet-stream',
    'application/x-gzip',
    'application/x-tar',
    'application/zip',
  ]);
  assert.equal(upload.requestBody!.content['application/gzip']!.schema.format, 'binary');
  const version = upload.parameters!.find((p) => p.name === 'version')!;
  assert.ok(new RegExp(version.schema.pattern).test('1.2.3-beta.1'));
  assert.ok(!new RegExp(version.schema.pattern).test('latest'));
});

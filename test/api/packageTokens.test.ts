import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { freePort, runCli, startCli, type CliProcess } from '../support/cliProcess.js';
import { registerFakeAgent, type FakeAgent } from '../support/agentClient.js';
import { testDatabaseArgs } from '../support/postgres.js';

// The server runs as its own process at its most verbose log level, so that the last test can
// read everything it logged and look for the tokens.
const dir = mkdtempSync(join(tmpdir(), 'longshore-package-tokens-'));
let server: CliProcess;
let url = '';
let apiKey = '';
let appTarGz: Buffer;
const issued: string[] = [];

async function api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function push(packageId: string, version: string, body: Uint8Array): Promise<void> {
  const res = await fetch(`${url}/api/packages/${packageId}/${version}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/octet-stream' },
    body,
  });
  assert.equal(res.status, 201, await res.text());
}

/** GET with a bearer token: status, error body or content. */
async function get(
  path: string,
  token: string,
  method = 'GET',
): Promise<{ status: number; code?: string; message?: string; content?: Buffer }> {
  const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${token}` } });
  const content = Buffer.from(await res.arrayBuffer());
  if (res.ok) return { status: res.status, content };
  const body = JSON.parse(content.toString()) as { code: string; message: string };
  return { status: res.status, code: body.code, message: body.message };
}

const content = (packageId: string, version: string) => `/api/agent/packages/${packageId}/${version}/content`;

/** Deploys the project and takes its operation with a fresh fake worker. */
async function runningOperation(project: string, worker: string): Promise<{ agent: FakeAgent; op: any }> {
  const deployed = await api('POST', '/api/deployments', { project, environment: 'Test' });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  const agent = await registerFakeAgent({ url, api }, worker);
  const [op] = (await agent.poll([], 1)).operations;
  assert.ok(op, 'the worker took the operation');
  return { agent, op };
}

async function tokenFor(agent: FakeAgent, operationId: string): Promise<{ token: string; expiresAt: string }> {
  const res = await agent.call('POST', `/api/agent/operations/${operationId}/package-token`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  issued.push(res.body.token);
  return res.body;
}

before(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = startCli([
    'server',
    '--port',
    String(port),
    '--data',
    join(dir, 'server'),
    '--log-level',
    'debug',
    '--insecure-http',
    ...(await testDatabaseArgs(join(dir, 'server'))),
  ]);
  await server.waitForOutput(/listening on/);
  apiKey = readFileSync(join(dir, 'server', 'admin-api-key'), 'utf8').trim();
  writeFileSync(join(dir, 'greeting.txt'), 'hello from the package\n');
  execFileSync('tar', ['-czf', join(dir, 'app.tar.gz'), '-C', dir, 'greeting.txt']);
  appTarGz = readFileSync(join(dir, 'app.tar.gz'));
  await push('app', '1.0.0', appTarGz);
  await push('app', '2.0.0', zipSync({ 'v2.txt': strToU8('two') }));
  await push('other', '1.0.0', zipSync({ 'other.txt': strToU8('other') }));
  await api('POST', '/api/environments', { name: 'Test' });
  const step = {
    name: 'Use',
    script: { body: 'cat packages/app/greeting.txt' },
    packages: [{ packageId: 'app', version: '1.0.0' }],
  };
  assert.equal((await api('POST', '/api/projects', { name: 'Uses', process: { steps: [step] } })).status, 201);
  assert.equal(
    (await api('POST', '/api/projects', { name: 'Short', process: { steps: [{ ...step, timeoutSeconds: 1 }] } }))
      .status,
    201,
  );
});
after(async () => {
  await server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

test('only the worker holding a running operation gets a token for it, lasting as long as the operation may run', async () => {
  const { agent, op } = await runningOperation('Uses', 'holder');
  const other = await registerFakeAgent({ url, api }, 'not-holder');
  const refused = await other.call('POST', `/api/agent/operations/${op.id}/package-token`);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'OPERATION_NOT_LEASED');
  assert.equal(
    (await other.call('POST', '/api/agent/operations/00000000-0000-4000-8000-000000000000/package-token')).body.code,
    'OPERATION_NOT_LEASED',
  );
  assert.equal(
    (await api('POST', `/api/agent/operations/${op.id}/package-token`)).status,
    401,
    'an API key is not a worker credential',
  );

  const before = Date.now();
  const { token, expiresAt } = await tokenFor(agent, op.id);
  assert.match(token, /^lsp_/);
  const lifetime = Date.parse(expiresAt) - before;
  assert.ok(lifetime > 3590_000 && lifetime < 3610_000, `the default step timeout (1 h), not ${lifetime} ms`);
});

test("the token downloads exactly its operation's packages; the worker's credential still downloads any", async () => {
  const { agent, op } = await runningOperation('Uses', 'scope');
  const { token } = await tokenFor(agent, op.id);
  const own = await get(content('app', '1.0.0'), token);
  assert.equal(own.status, 200);
  assert.deepEqual(own.content, appTarGz);
  for (const [id, version] of [
    ['other', '1.0.0'],
    ['app', '2.0.0'],
  ] as const) {
    const refused = await get(content(id, version), token);
    assert.equal(refused.status, 403, `${id} ${version}`);
    assert.equal(refused.code, 'FORBIDDEN');
    assert.match(
      refused.message!,
      new RegExp(`only the packages of operation ${op.id}; ${id} ${version} is not one of them`),
    );
  }
  assert.equal((await get(content('other', '1.0.0'), agent.credential)).status, 200);
});

test('the token opens no other route, and an altered token opens nothing', async () => {
  const { agent, op } = await runningOperation('Uses', 'routes');
  const { token } = await tokenFor(agent, op.id);
  const routes: [string, string][] = [
    ['POST', '/api/agent/poll'],
    ['GET', `/api/agent/operations/${op.id}`],
    ['POST', `/api/agent/operations/${op.id}/package-token`],
    ['GET', '/api/packages/app/1.0.0/content'],
    ['GET', '/api/projects'],
  ];
  for (const [method, path] of routes) {
    const res = await get(path, token, method);
    assert.equal(res.status, 401, `${method} ${path}`);
    assert.equal(res.code, 'UNAUTHENTICATED');
    assert.match(res.message!, /A package token only downloads its operation's packages/);
  }
  const signature = token.slice(token.lastIndexOf('.') + 1);
  const altered = `${token.slice(0, token.lastIndexOf('.') + 1)}${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
  const forged = await get(content('app', '1.0.0'), altered);
  assert.equal(forged.status, 401);
  assert.match(forged.message!, /not issued by this server or was altered/);
  // The claims are signed: pointing a token at another operation breaks it.
  const [, payload] = /^lsp_([^.]+)\./.exec(token)!;
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
  const moved = `lsp_${Buffer.from(JSON.stringify({ ...claims, e: claims.e + 3600_000 })).toString('base64url')}.${signature}`;
  assert.equal((await get(content('app', '1.0.0'), moved)).status, 401);
});

test('an expired token is refused', async () => {
  const { agent, op } = await runningOperation('Short', 'expiry');
  const { token, expiresAt } = await tokenFor(agent, op.id);
  assert.ok(Date.parse(expiresAt) - Date.now() <= 1000, 'a 1 s step gets a 1 s token');
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expiresAt) - Date.now()) + 50));
  const res = await get(content('app', '1.0.0'), token);
  assert.equal(res.status, 401);
  assert.match(res.message!, /expired at .*run the step again/);
});

test('the token ends with its operation, and a finished operation gets no new one', async () => {
  const { agent, op } = await runningOperation('Uses', 'finisher');
  const { token } = await tokenFor(agent, op.id);
  assert.equal((await get(content('app', '1.0.0'), token)).status, 200);
  const done = await agent.call('POST', `/api/agent/operations/${op.id}/complete`, {
    outcome: 'succeeded',
    exitCode: 0,
    message: 'ok',
    outputVariables: [],
    finalSeq: 0,
  });
  assert.equal(done.status, 204);
  const res = await get(content('app', '1.0.0'), token);
  assert.equal(res.status, 401);
  assert.match(res.message!, /no longer running .*package tokens end with their operation/);
  const again = await agent.call('POST', `/api/agent/operations/${op.id}/package-token`);
  assert.equal(again.status, 409);
  assert.equal(again.body.code, 'OPERATION_NOT_LEASED');
  assert.match(again.body.message, /has ended \(finished\)/);
});

test('longshore fetch-packages installs with the token and fails with the reason when it is refused', async () => {
  const { agent, op } = await runningOperation('Uses', 'fetcher');
  const { token } = await tokenFor(agent, op.id);
  const into = join(dir, 'work');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ serverUrl: url, packages: op.packages }));
  writeFileSync(join(dir, 'token'), `${token}\n`);
  const args = [
    'fetch-packages',
    '--manifest',
    join(dir, 'manifest.json'),
    '--token-file',
    join(dir, 'token'),
    '--into',
    into,
  ];
  const ok = await runCli(args);
  assert.equal(ok.code, 0, ok.output);
  assert.match(
    ok.output,
    /^Installed package app \(app 1\.0\.0, tar\.gz, sha256 verified\) into .*work\/packages\/app in \d+ ms$/m,
  );
  assert.equal(readFileSync(join(into, 'packages/app/greeting.txt'), 'utf8'), 'hello from the package\n');
  assert.ok(!ok.output.includes(token));

  await agent.call('POST', `/api/agent/operations/${op.id}/complete`, {
    outcome: 'succeeded',
    exitCode: 0,
    message: 'ok',
    outputVariables: [],
    finalSeq: 0,
  });
  const refused = await runCli(args);
  assert.equal(refused.code, 1);
  assert.match(
    refused.output,
    /error \[UNAUTHENTICATED\]: Package 'app' \(app 1\.0\.0\) could not be downloaded from http:\/\/127\.0\.0\.1:\d+: .*no longer running/,
  );
  assert.ok(!refused.output.includes(token));
});

test('no token ever reaches the server log', () => {
  const log = server.output();
  assert.ok(issued.length >= 6);
  assert.match(log, /\/package-token/, 'the log has the requests that issued them');
  assert.match(log, /\/api\/agent\/packages\/app\/1\.0\.0\/content/, 'and those that used them');
  for (const token of issued) {
    assert.ok(!log.includes(token), 'a token is in the server log');
    assert.ok(!log.includes(token.slice(token.lastIndexOf('.') + 1)), "a token's signature is in the server log");
  }
});

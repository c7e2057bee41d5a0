import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, Watch, type V1Secret } from '@kubernetes/client-node';
import { startSandbox } from '@longshore/sandbox';
import { ServerTransport } from '@longshore/client/node';
import { freePort, runCli, startCli, type CliProcess } from '../support/cliProcess.js';
import { FAST_SERVER_ENV } from '../support/lab.js';
import { testDatabaseArgs } from '../support/postgres.js';

// `longshore server` as users run it, HTTPS by default, and workers and the CLI that pin it.
const dir = mkdtempSync(join(tmpdir(), 'longshore-tls-e2e-'));
const dataDir = join(dir, 'server');
const processes: CliProcess[] = [];
let url = '';
let thumbprint = '';
let apiKey = '';
let api: ServerTransport;

/** The thumbprint as `openssl x509 -fingerprint -sha256` prints it: uppercase, with colons. */
const opensslForm = (hex: string): string => hex.toUpperCase().replace(/(..)(?!$)/g, '$1:');

function start(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = startCli(args, env, dir);
  processes.push(child);
  return child;
}

async function call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  return (await api.json({
    method,
    path,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    timeoutMs: 10_000,
  })) as T;
}

const newToken = async (pools = ['default']): Promise<string> =>
  (await call<{ token: string }>('POST', '/api/registration-tokens', { pools })).token;

const worker = (name: string, pin: string[], token: string, more: string[] = []) =>
  start([
    'worker',
    '--server',
    url,
    '--name',
    name,
    '--data',
    join(dir, `worker-${name}`),
    '--registration-token',
    token,
    ...pin,
    ...more,
  ]);

const clientEnv = () => ({ LONGSHORE_URL: url, LONGSHORE_API_KEY: apiKey, LONGSHORE_SERVER_THUMBPRINT: thumbprint });

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args, clientEnv());
  assert.equal(r.code, 0, r.output);
  return r.output;
}

/** A .tar.gz of one file, pushed to the server's feed. */
async function pushPackage(packageId: string, file: string, content: string): Promise<void> {
  const source = join(dir, `${packageId}-src`);
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, file), content);
  const archive = join(dir, `${packageId}.tar.gz`);
  execFileSync('tar', ['-czf', archive, '-C', source, file]);
  await cli(['packages', 'push', archive, '--id', packageId, '--version', '1.0.0']);
}

before(async () => {
  const port = await freePort();
  const server = start(
    ['server', '--port', String(port), '--data', dataDir, '--log-level', 'warn', ...(await testDatabaseArgs(dataDir))],
    FAST_SERVER_ENV,
  );
  url = (await server.waitForOutput(/listening on (https:\/\/\S+)/))[1]!;
  thumbprint = (await server.waitForOutput(/Certificate thumbprint \(SHA-256\): ([0-9a-f]{64})/))[1]!;
  apiKey = readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim();
  api = new ServerTransport({ serverUrl: url, thumbprint, userAgent: 'e2e' });
});
after(async () => {
  api.close();
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

test('longshore server serves HTTPS and prints the thumbprint of its certificate, as openssl computes it', async () => {
  assert.equal(url, `https://127.0.0.1:${new URL(url).port}`);
  const certificate = new X509Certificate(readFileSync(join(dataDir, 'tls', 'server.crt')));
  assert.equal(opensslForm(thumbprint), certificate.fingerprint256);
  assert.deepEqual(await call('GET', '/api/server'), {
    version: (await call('GET', '/api')).version,
    url,
    certificateThumbprint: thumbprint,
  });
});

test('the CLI pins the server with --server-thumbprint, in either form, and refuses it without', async () => {
  for (const pin of [thumbprint, opensslForm(thumbprint)]) {
    const listed = await runCli(['workers', '--url', url, '--server-thumbprint', pin, '-o', 'json'], {
      LONGSHORE_API_KEY: apiKey,
    });
    assert.equal(listed.code, 0, listed.output);
    assert.ok(Array.isArray(JSON.parse(listed.output)));
  }
  const byEnv = await runCli(['pools', '--url', url, '-o', 'json'], {
    LONGSHORE_API_KEY: apiKey,
    LONGSHORE_SERVER_THUMBPRINT: thumbprint,
  });
  assert.equal(byEnv.code, 0, byEnv.output);

  const unpinned = await runCli(['workers', '--url', url], {
    LONGSHORE_API_KEY: apiKey,
    LONGSHORE_DATA: join(dir, 'elsewhere'),
  });
  assert.equal(unpinned.code, 1);
  assert.match(
    unpinned.output,
    /error \[SERVER_CERTIFICATE_UNTRUSTED\]: .*not trusted .*its thumbprint is [0-9a-f]{64}.*--server-thumbprint/,
  );
});

test('a worker with the right thumbprint registers, and runs a deployment whose package it downloads over HTTPS', async () => {
  const w = worker('pinned', ['--server-thumbprint', opensslForm(thumbprint)], await newToken());
  await w.waitForOutput(/worker running/);
  await pushPackage('greeting', 'hello.txt', 'hello over pinned TLS\n');
  writeFileSync(
    join(dir, 'project.yaml'),
    `environments:
  - name: Test
projects:
  - name: Pinned
    process:
      steps:
        - name: Greet
          packages: [ { packageId: greeting } ]
          script: { body: 'cat packages/greeting/hello.txt' }
`,
  );
  await cli(['apply', '-f', join(dir, 'project.yaml')]);
  assert.match(await cli(['deploy', 'Pinned', '--to', 'Test', '--follow']), /\[Greet\] hello over pinned TLS/);
  const workers = await call<{ items: { name: string; status: string }[] }>('GET', '/api/workers');
  assert.deepEqual(
    workers.items.map((x) => [x.name, x.status]),
    [['pinned', 'online']],
  );
});

test('a worker with a wrong thumbprint says so once, with both thumbprints, and never registers', async () => {
  const wrong = 'ab'.repeat(32);
  const w = worker('wrong-pin', ['--server-thumbprint', wrong], await newToken());
  await w.waitForOutput(/SERVER_CERTIFICATE_MISMATCH/);
  await sleep(1500);
  const lines = w
    .output()
    .split('\n')
    .filter((l) => l.includes('SERVER_CERTIFICATE_MISMATCH'));
  assert.equal(lines.length, 1, w.output());
  assert.ok(lines[0]!.includes(wrong) && lines[0]!.includes(thumbprint), lines[0]);
  assert.match(lines[0]!, /set the pin .* to it/);
  assert.doesNotMatch(w.output(), /worker running/);
  assert.ok(
    !(await call<{ items: { name: string }[] }>('GET', '/api/workers')).items.some((x) => x.name === 'wrong-pin'),
  );
});

test('a worker without a thumbprint refuses the self-signed server, saying to pin it', async () => {
  const w = worker('unpinned', [], await newToken());
  const [line] = await w.waitForOutput(/.*SERVER_CERTIFICATE_UNTRUSTED.*/);
  assert.ok(line.includes(thumbprint), line);
  assert.match(line, /must be pinned.*--server-thumbprint/);
  assert.doesNotMatch(w.output(), /worker running/);
  assert.ok(
    !(await call<{ items: { name: string }[] }>('GET', '/api/workers')).items.some((x) => x.name === 'unpinned'),
  );
});

test("a pinned Kubernetes worker gives script pods the server's certificate, and their init container fetches packages over HTTPS with it", async () => {
  const sandbox = await startSandbox();
  try {
    await call('POST', '/api/worker-pools', { name: 'cluster' });
    const k8s = worker('k8s-pinned', ['--server-thumbprint', thumbprint], await newToken(['cluster']), [
      '--executor',
      'kubernetes',
      '--kubeconfig',
      sandbox.kubeconfigPath,
      '--namespace',
      'default',
    ]);
    await k8s.waitForOutput(/worker running/);
    await pushPackage('podgreeting', 'hello.txt', 'hello from a script pod over pinned TLS\n');
    writeFileSync(
      join(dir, 'pod-project.yaml'),
      `environments:
  - name: Test
projects:
  - name: InPods
    process:
      steps:
        - name: Fetch
          runOn: { pool: cluster }
          packages: [ { packageId: podgreeting } ]
          script: { body: 'cat packages/podgreeting/hello.txt' }
`,
    );
    await cli(['apply', '-f', join(dir, 'pod-project.yaml')]);
    const kc = new KubeConfig();
    kc.loadFromFile(sandbox.kubeconfigPath);
    const secrets: V1Secret[] = [];
    const watch = await new Watch(kc).watch(
      '/api/v1/namespaces/default/secrets',
      { labelSelector: 'longshore.io/worker' },
      (type: string, secret: V1Secret) => {
        if (type === 'ADDED') secrets.push(secret);
      },
      () => {},
    );
    const deployed = await cli(['deploy', 'InPods', '--to', 'Test', '--follow']).finally(() => watch.abort());
    assert.match(deployed, /\[Fetch\] hello from a script pod over pinned TLS/);
    const ca = secrets.map((x) => x.data?.['fetch-server-ca.pem']).find(Boolean);
    assert.ok(ca, 'the workspace Secret holds the CA for the package fetcher');
    assert.equal(
      new X509Certificate(Buffer.from(ca, 'base64')).fingerprint256,
      opensslForm(thumbprint),
      "it is the server's pinned certificate",
    );
  } finally {
    await sandbox.stop();
  }
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { LONGSHORE_VERSION } from '@longshore/protocol';
import { ServerTransport } from '@longshore/client/node';
import { parse as parseYaml } from 'yaml';
import { helmPath } from '../control-plane/differential/manifests.js';
import { startHarness, type Harness } from '../support/serverHarness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const helm = helmPath();

/** The harness's server over HTTPS, called as a pinning client does (fetch cannot pin). */
interface HttpsApi {
  call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    apiKey?: string | null,
  ): Promise<{ status: number; body: T }>;
}

function httpsApi(h: Harness): HttpsApi & { close(): void } {
  const transport = new ServerTransport({
    serverUrl: h.url,
    thumbprint: h.server.certificateThumbprint!,
    userAgent: 'test',
  });
  return {
    async call(method, path, body, apiKey = h.apiKey) {
      const res = await transport.send({
        method,
        path,
        headers: {
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        timeoutMs: 10_000,
      });
      let text = '';
      for await (const chunk of res) text += (chunk as Buffer).toString();
      return { status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined };
    },
    close: () => transport.close(),
  };
}

/** The words a POSIX shell makes of the command, as helm receives them. */
function words(command: string): string[] {
  return execFileSync('sh', ['-c', `printf '%s\\0' ${command}`], { encoding: 'utf8' })
    .split('\0')
    .slice(0, -1);
}

const tokenCount = async (h: Harness): Promise<number> =>
  Number(
    (
      await h.server.ctx.db
        .selectFrom('registration_tokens')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('POST /api/workers/install-command on an HTTPS server', () => {
  let h: Harness;
  let api: HttpsApi & { close(): void };

  before(async () => {
    h = await startHarness({ insecureHttp: false, workerChart: 'charts/longshore-worker' });
    api = httpsApi(h);
    assert.equal((await api.call('POST', '/api/worker-pools', { name: 'builders' })).status, 201);
  });
  after(async () => {
    api.close();
    await h.close();
  });

  test('GET /api/server says the version, the URL and the thumbprint workers pin', async () => {
    const res = await api.call('GET', '/api/server');
    assert.deepEqual(res.body, {
      version: LONGSHORE_VERSION,
      url: h.url,
      certificateThumbprint: h.server.certificateThumbprint,
    });
    assert.match(h.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test('the whole helm command: fresh token, URL and thumbprint, pools, namespace, extra values quoted for the shell', async () => {
    const res = await api.call('POST', '/api/workers/install-command', {
      pools: ['default', 'builders'],
      name: 'k8s-East',
      namespace: 'ci-workers',
      values: {
        'scriptPods.annotations.note': `it's "quoted", with {braces} and $HOME`,
        'worker.maxConcurrentOperations': '20',
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const { command, token, expiresAt, helm: install } = res.body;
    assert.match(token, /^lsr_/);
    assert.ok(Math.abs(Date.parse(expiresAt) - (Date.now() + 60 * 60_000)) < 60_000, expiresAt);
    assert.deepEqual(install, {
      release: 'longshore-worker-k8s-east',
      chart: 'charts/longshore-worker',
      version: LONGSHORE_VERSION,
      namespace: 'ci-workers',
      values: {
        'server.url': h.url,
        'server.certificateThumbprint': h.server.certificateThumbprint,
        'registration.token': token,
        'worker.name': 'k8s-East',
        'worker.pools': ['default', 'builders'],
        'scriptPods.annotations.note': `it's "quoted", with {braces} and $HOME`,
        'worker.maxConcurrentOperations': '20',
      },
    });
    assert.ok(!command.includes('\n'), 'one line');
    assert.deepEqual(words(command), [
      'helm',
      'upgrade',
      '--install',
      'longshore-worker-k8s-east',
      'charts/longshore-worker',
      '--version',
      LONGSHORE_VERSION,
      '--namespace',
      'ci-workers',
      '--create-namespace',
      '--atomic',
      '--wait',
      '--timeout',
      '10m',
      '--set',
      `server.url=${h.url}`,
      '--set',
      `server.certificateThumbprint=${h.server.certificateThumbprint}`,
      '--set',
      `registration.token=${token}`,
      '--set',
      'worker.name=k8s-East',
      '--set',
      'worker.pools={default,builders}',
      '--set',
      `scriptPods.annotations.note=it's "quoted"\\, with \\{braces\\} and $HOME`,
      '--set',
      'worker.maxConcurrentOperations=20',
    ]);
  });

  test(
    'the command renders with the real helm: each value arrives as given',
    { skip: !helm && 'helm is not installed: bash scripts/install-kube-clients.sh' },
    async () => {
      const note = `it's "quoted", with {braces} and $HOME`;
      const { body } = await api.call('POST', '/api/workers/install-command', {
        pools: ['builders'],
        name: 'rendered',
        values: { 'scriptPods.annotations.note': note },
      });
      const rendered = execFileSync(
        'sh',
        ['-c', (body.command as string).replace(/^helm upgrade --install /, `'${helm}' template `)],
        { cwd: ROOT, encoding: 'utf8' },
      );
      const docs = rendered
        .split(/^---$/m)
        .map((d) => parseYaml(d) as any)
        .filter(Boolean);
      const env = Object.fromEntries(
        docs
          .find((d) => d.kind === 'Deployment')
          .spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]),
      );
      assert.equal(env.LONGSHORE_URL, h.url);
      assert.equal(env.LONGSHORE_SERVER_THUMBPRINT, h.server.certificateThumbprint);
      assert.equal(env.LONGSHORE_WORKER_NAME, 'rendered');
      assert.equal(env.LONGSHORE_POOLS, 'builders');
      const secret = docs.find((d) => d.kind === 'Secret' && d.data?.token);
      assert.equal(Buffer.from(secret.data.token, 'base64').toString(), body.token);
      const scriptPods = parseYaml(docs.find((d) => d.kind === 'ConfigMap').data['script-pods.yaml']);
      assert.equal(scriptPods.annotations.note, note);
    },
  );

  test('each command has a fresh token, good once, for the pools asked for', async () => {
    const first = (await api.call('POST', '/api/workers/install-command', { pools: ['builders'], expiresInMinutes: 5 }))
      .body;
    const second = (await api.call('POST', '/api/workers/install-command', { pools: ['builders'] })).body;
    assert.notEqual(first.token, second.token);
    assert.ok(Date.parse(first.expiresAt) - Date.now() <= 5 * 60_000);
    assert.equal(first.helm.release, 'longshore-worker');
    assert.equal(first.helm.namespace, 'longshore');
    assert.equal(first.helm.values['worker.name'], undefined, 'no name: the chart names the worker after the release');
    const register = (name: string) =>
      api.call(
        'POST',
        '/api/agent/register',
        { token: first.token, name, executor: 'kubernetes', version: LONGSHORE_VERSION, capacity: 5 },
        null,
      );
    const registered = await register('from-command');
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    assert.deepEqual(registered.body.pools, ['builders']);
    const again = await register('from-command-2');
    assert.equal(again.status, 401);
    assert.equal(again.body.code, 'REGISTRATION_TOKEN_INVALID');
  });

  test('bad input is refused with what is wrong, and no token is made', async () => {
    await api.call('POST', '/api/worker-pools', { name: 'two words' });
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /pools/],
      [{ pools: [] }, 400, /pools/],
      [{ pools: ['ghost'] }, 404, /Worker pool 'ghost' does not exist/],
      [{ pools: ['two words'] }, 400, /Worker pool 'two words' has whitespace or a comma/],
      [{ pools: ['default'], name: 'bad_' }, 400, /name/],
      [{ pools: ['default'], name: 'x'.repeat(64) }, 400, /name/],
      [
        { pools: ['default'], name: 'from-command' },
        409,
        /Worker 'from-command' serves the pools builders, which came with its registration and a reinstall keeps/,
      ],
      [{ pools: ['default'], namespace: 'Bad_Namespace' }, 400, /namespace/],
      [{ pools: ['default'], values: { 'not a path': 'x' } }, 400, /'not a path' is not a chart value path/],
      [
        { pools: ['default'], values: { 'registration.token': 'mine' } },
        400,
        /'registration.token' clashes with registration.token/,
      ],
      [{ pools: ['default'], values: { server: 'x' } }, 400, /'server' clashes with server.url/],
      [{ pools: ['default'], values: { 'scriptPods.pendingTimeout': 5 } }, 400, /values/],
      [{ pools: ['default'], expiresInMinutes: 0 }, 400, /expiresInMinutes/],
      [{ pools: ['default'], extra: true }, 400, /extra|additional/],
    ];
    const tokens = await tokenCount(h);
    for (const [body, status, message] of cases) {
      const res = await api.call('POST', '/api/workers/install-command', body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, message, JSON.stringify(body));
    }
    assert.equal(await tokenCount(h), tokens);
  });

  test("a registered Kubernetes worker's name gives the command that reinstalls it: no token, its namespace and spelling", async () => {
    const register = async (name: string, executor: string, metadata: Record<string, string>) => {
      const { token } = (await api.call('POST', '/api/registration-tokens', { pools: ['builders'] })).body;
      const res = await api.call(
        'POST',
        '/api/agent/register',
        { token, name, executor, version: LONGSHORE_VERSION, capacity: 5, metadata },
        null,
      );
      assert.equal(res.status, 201, JSON.stringify(res.body));
    };
    await register('Kept-1', 'kubernetes', { namespace: 'ci-east' });
    await register('kept-local', 'local', {});
    const tokens = await tokenCount(h);
    const res = await api.call('POST', '/api/workers/install-command', { pools: ['builders'], name: 'kept-1' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.reinstall, true);
    assert.equal(res.body.token, undefined);
    assert.equal(res.body.expiresAt, undefined);
    assert.deepEqual(res.body.helm.values, {
      'server.url': h.url,
      'server.certificateThumbprint': h.server.certificateThumbprint,
      'worker.name': 'Kept-1',
      'worker.pools': ['builders'],
    });
    assert.equal(res.body.helm.namespace, 'ci-east', 'where the kept credential Secret is');
    assert.equal(res.body.helm.release, 'longshore-worker-kept-1');
    assert.ok(!res.body.command.includes('registration.'), res.body.command);
    assert.equal(await tokenCount(h), tokens, 'no token made');
    const fresh = (await api.call('POST', '/api/workers/install-command', { pools: ['builders'], name: 'new-one' }))
      .body;
    assert.equal(fresh.reinstall, false);
    assert.match(fresh.token, /^lsr_/);

    const refused: [unknown, RegExp][] = [
      [
        { pools: ['builders'], name: 'Kept-1', namespace: 'elsewhere' },
        /Worker 'Kept-1' runs in namespace ci-east, where its chart keeps its credential: reinstall it there/,
      ],
      [{ pools: ['builders', 'default'], name: 'Kept-1' }, /Worker 'Kept-1' serves the pools builders/],
      [
        { pools: ['builders'], name: 'kept-local' },
        /A worker named 'kept-local' is already registered \(a local worker\)/,
      ],
    ];
    for (const [body, message] of refused) {
      const r = await api.call('POST', '/api/workers/install-command', body);
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.match(r.body.message, message);
    }
  });

  test(
    'a reinstall command fails helm, saying why, where no credential was kept',
    { skip: !helm && 'helm is not installed: bash scripts/install-kube-clients.sh' },
    async () => {
      const { body } = await api.call('POST', '/api/workers/install-command', { pools: ['builders'], name: 'Kept-1' });
      assert.equal(body.reinstall, true);
      // helm template has no cluster to look the Secret up in: it stands for a namespace without it.
      const r = spawnSync(
        'sh',
        ['-c', (body.command as string).replace(/^helm upgrade --install /, `'${helm}' template `)],
        { cwd: ROOT, encoding: 'utf8' },
      );
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        /registration\.token or registration\.existingSecret is required: .* no credential to reuse in the Secret longshore-worker-kept-1-credential of namespace ci-east/,
      );
    },
  );

  test('401 without an API key, and with a worker credential', async () => {
    const res = await api.call('POST', '/api/workers/install-command', { pools: ['default'] }, null);
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'UNAUTHENTICATED');
    const { token } = (await api.call('POST', '/api/registration-tokens', { pools: ['default'] })).body;
    const { credential } = (
      await api.call(
        'POST',
        '/api/agent/register',
        { token, name: 'cred-check', executor: 'local', version: LONGSHORE_VERSION, capacity: 1 },
        null,
      )
    ).body;
    assert.equal(
      (await api.call('POST', '/api/workers/install-command', { pools: ['default'] }, credential)).status,
      401,
    );
    assert.equal((await api.call('GET', '/api/server', undefined, null)).status, 401);
  });
});

describe('the install command of a plain HTTP server', () => {
  test('has no thumbprint: behind a TLS-terminating proxy the public URL is what workers use', async () => {
    const h = await startHarness({ publicUrl: 'https://longshore.example.com' });
    // h.url is the public URL, which leads nowhere here: call the listen address.
    const listening = `http://127.0.0.1:${(h.server.app.server.address() as AddressInfo).port}`;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(listening + path, {
        method,
        headers: { authorization: `Bearer ${h.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    try {
      const res = await call('POST', '/api/workers/install-command', { pools: ['default'] });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.helm.values['server.url'], 'https://longshore.example.com');
      assert.equal(res.body.helm.values['server.certificateThumbprint'], undefined);
      assert.ok(!res.body.command.includes('certificateThumbprint'));
      assert.equal(res.body.helm.chart, 'oci://ghcr.io/longshore/charts/longshore-worker');
      assert.deepEqual((await call('GET', '/api/server')).body, {
        version: LONGSHORE_VERSION,
        url: 'https://longshore.example.com',
        certificateThumbprint: null,
      });
    } finally {
      await h.close();
    }
  });
});

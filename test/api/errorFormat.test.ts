import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startHarness, type Harness } from '../support/serverHarness.js';

let h: Harness;
before(async () => {
  h = await startHarness({ bodyLimitBytes: 64 * 1024 });
});
after(() => h.close());

/** Every error the server answers is `{code, message}` (and `details` when there are some), never Fastify's `{statusCode, error}`. */
function assertLongshoreShape(
  status: number,
  body: any,
  expected: { status: number; code: string; message?: RegExp },
  what: string,
): void {
  assert.equal(status, expected.status, `${what}: ${JSON.stringify(body)}`);
  assert.equal(typeof body, 'object', `${what}: ${body}`);
  assert.equal(body.code, expected.code, what);
  assert.equal(typeof body.message, 'string', what);
  assert.deepEqual(
    Object.keys(body).filter((k) => !['code', 'message', 'details'].includes(k)),
    [],
    `${what}: ${JSON.stringify(body)}`,
  );
  if (expected.message) assert.match(body.message, expected.message, what);
}

const raw = (init: { method?: string; path: string; headers?: Record<string, string>; body?: string }) =>
  fetch(h.url + init.path, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${h.apiKey}`, ...init.headers },
    ...(init.body !== undefined ? { body: init.body } : {}),
  }).then(async (r) => ({
    status: r.status,
    body: JSON.parse(await r.text()),
  }));

test("the router's, the body parser's and the validator's errors all come in Longshore's shape", async () => {
  const cases: [string, Parameters<typeof raw>[0], { status: number; code: string; message?: RegExp }][] = [
    [
      'path parameter longer than any name',
      { path: `/api/environments/${'x'.repeat(2401)}` },
      { status: 414, code: 'URI_TOO_LONG', message: /at most 200/ },
    ],
    [
      'path that is not percent-encoding',
      { path: '/api/environments/%E0%A4%A' },
      { status: 400, code: 'VALIDATION_FAILED', message: /percent-encoding/ },
    ],
    [
      'unknown route',
      { path: '/api/nothing-here' },
      { status: 404, code: 'NOT_FOUND', message: /No route GET \/api\/nothing-here/ },
    ],
    [
      'malformed JSON',
      { method: 'POST', path: '/api/environments', headers: { 'content-type': 'application/json' }, body: '{"name": ' },
      { status: 400, code: 'VALIDATION_FAILED' },
    ],
    [
      'empty JSON body',
      { method: 'POST', path: '/api/environments', headers: { 'content-type': 'application/json' }, body: '' },
      { status: 400, code: 'VALIDATION_FAILED' },
    ],
    [
      'unsupported media type',
      { method: 'POST', path: '/api/environments', headers: { 'content-type': 'text/xml' }, body: '<name/>' },
      { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    ],
    [
      'body too large',
      {
        method: 'POST',
        path: '/api/environments',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'big', description: 'x'.repeat(70 * 1024) }),
      },
      { status: 413, code: 'PAYLOAD_TOO_LARGE' },
    ],
    [
      'schema violation',
      {
        method: 'POST',
        path: '/api/environments',
        headers: { 'content-type': 'application/json' },
        body: '{"name": 5}',
      },
      { status: 400, code: 'VALIDATION_FAILED', message: /body\.name/ },
    ],
  ];
  for (const [what, init, expected] of cases) {
    const res = await raw(init);
    assertLongshoreShape(res.status, res.body, expected, what);
  }
});

test('a request whose headers Node refuses is answered in the same shape', async () => {
  const { port } = new URL(h.url);
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/api/environments', headers: { 'x-filler': 'y'.repeat(20 * 1024) } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assertLongshoreShape(
    answer.status,
    JSON.parse(answer.body),
    { status: 431, code: 'REQUEST_HEADERS_TOO_LARGE' },
    'header overflow',
  );
});

test('a name of the longest allowed length can be created and read back by its name, however it is encoded', async () => {
  for (const name of ['n'.repeat(200), `${'é ü'.repeat(66)}ab`, '😀'.repeat(200)]) {
    const created = await h.api('POST', '/api/environments', { name });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const read = await h.api('GET', `/api/environments/${encodeURIComponent(name)}`);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.name, name);
  }
  const tooLong = await h.api('POST', '/api/environments', { name: 'n'.repeat(201) });
  assertLongshoreShape(
    tooLong.status,
    tooLong.body,
    { status: 400, code: 'VALIDATION_FAILED', message: /body\.name must NOT have more than 200 characters/ },
    'a name of 201',
  );
  const tooLongRef = await h.api('GET', `/api/environments/${'n'.repeat(201)}`);
  assertLongshoreShape(
    tooLongRef.status,
    tooLongRef.body,
    { status: 400, code: 'VALIDATION_FAILED', message: /params\.ref/ },
    'a ref of 201',
  );
});

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { isErrorCode, type LongshoreError, type PollResponse } from '@longshore/protocol';
import { HttpAgentChannel } from './serverClient.js';
import { testOperation } from './testing/operation.fixture.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

describe('HttpAgentChannel', () => {
  const seen: Seen[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse, body: unknown) => void = () => {};
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body: unknown = raw ? JSON.parse(raw) : undefined;
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      handler(req, res, body);
    });
  });
  let url = '';
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const channel = (options: Partial<ConstructorParameters<typeof HttpAgentChannel>[0]> = {}) =>
    new HttpAgentChannel({ serverUrl: `${url}/base/`, requestTimeoutMs: 2000, downloadTimeoutMs: 2000, ...options });

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('registers without a credential, then sends it as a bearer token', async () => {
    const operation = testOperation();
    handler = (req, res) => {
      if (req.url!.endsWith('/register')) json(res, 200, { workerId: 'w1', credential: 'c1', pools: ['p'] });
      else json(res, 200, { operations: [operation], cancel: [], forget: [] } satisfies PollResponse);
    };
    const c = channel();
    const registered = await c.register({ token: 't', name: 'w', executor: 'local', version: '0.1.0', capacity: 2 });
    assert.deepEqual(registered, { workerId: 'w1', credential: 'c1', pools: ['p'] });
    c.useCredential(registered.credential);
    const polled = await c.poll({ free: 2, running: [], waitMs: 0 });
    assert.deepEqual(polled.operations, [operation]);
    assert.deepEqual(
      seen.slice(-2).map((s) => [s.method, s.url, s.authorization]),
      [
        ['POST', '/base/api/agent/register', undefined],
        ['POST', '/base/api/agent/poll', 'Bearer c1'],
      ],
    );
  });

  it('turns error bodies into typed errors with their details', async () => {
    handler = (_req, res) => json(res, 409, { code: 'LOG_GAP', message: 'lines missing', details: { expectedSeq: 5 } });
    const gap = await channel({ credential: 'c' })
      .sendLogs('op', { lines: [] })
      .catch((e: unknown) => e);
    assert.ok(isErrorCode(gap, 'LOG_GAP'));
    assert.deepEqual((gap as LongshoreError).details, { expectedSeq: 5 });
    handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    };
    await assert.rejects(
      channel().complete('op', { outcome: 'succeeded', message: '', outputVariables: [], finalSeq: 0 }),
      (e) => isErrorCode(e, 'INTERNAL') && /bad gateway/.test((e as Error).message),
    );
  });

  it('rejects an answer that does not match the contract', async () => {
    handler = (_req, res) => json(res, 200, { operations: 'nope' });
    await assert.rejects(
      channel().poll({ free: 1, running: [], waitMs: 0 }),
      (e) => isErrorCode(e, 'INTERNAL') && /not valid/.test((e as Error).message),
    );
  });

  it('reports an unreachable server, a slow one, and the caller’s own abort apart', async () => {
    const closed = new HttpAgentChannel({
      serverUrl: 'http://127.0.0.1:1',
      requestTimeoutMs: 2000,
      downloadTimeoutMs: 2000,
    });
    await assert.rejects(closed.operationState('op'), (e) => isErrorCode(e, 'SERVER_UNREACHABLE'));

    handler = (_req, res) =>
      setTimeout(() => json(res, 200, { ackedSeq: 0, lastSource: 0, cancelRequested: false }), 500);
    await assert.rejects(channel({ requestTimeoutMs: 100 }).sendLogs('op', { lines: [] }), (e) =>
      isErrorCode(e, 'TIMEOUT'),
    );

    const abort = new AbortController();
    const reason = new Error('stopping');
    const call = channel().sendLogs('op', { lines: [] }, abort.signal);
    setTimeout(() => abort.abort(reason), 50);
    await assert.rejects(call, (e) => e === reason);
  });

  it('gives a poll its wait on top of the time limit', async () => {
    handler = (_req, res) => setTimeout(() => json(res, 200, { operations: [], cancel: [], forget: [] }), 300);
    const response = await channel({ requestTimeoutMs: 200 }).poll({ free: 0, running: ['a'], waitMs: 400 });
    assert.deepEqual(response, { operations: [], cancel: [], forget: [] });
  });

  it('posts a health report to its check and the offline notice, with the credential', async () => {
    handler = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    const c = channel({ credential: 'c' });
    const report = { checks: [{ name: 'server channel', ok: true, detail: 'fine' }], facts: { version: '0.1.0' } };
    await c.healthReport('hc-1', report);
    await c.offline();
    assert.deepEqual(
      seen.slice(-2).map((s) => [s.method, s.url, s.authorization, s.body]),
      [
        ['POST', '/base/api/agent/health-checks/hc-1', 'Bearer c', report],
        ['POST', '/base/api/agent/worker/offline', 'Bearer c', undefined],
      ],
    );
  });

  it('streams a package download', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end('archive bytes');
    };
    const stream = await channel({ credential: 'c' }).downloadPackage('api/agent/packages/p/1.0/content');
    assert.equal(await text(stream), 'archive bytes');
    assert.equal(seen.at(-1)!.url, '/base/api/agent/packages/p/1.0/content');
    assert.equal(seen.at(-1)!.authorization, 'Bearer c');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isErrorCode, type LongshoreError } from '@longshore/protocol';
import { LongshoreClient } from './longshoreClient.js';

type Answer = (url: string, init: RequestInit) => Promise<Response>;

const clientAnswering = (answer: Answer, timeoutMs?: number) =>
  new LongshoreClient({ url: 'https://longshore.example.com/base/', apiKey: 'key', fetch: answer, timeoutMs });

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('LongshoreClient calls', () => {
  it('sends the key, encodes references and queries under the server path, and unwraps lists', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const client = clientAnswering(async (url, init) => {
      calls.push({ url, init });
      return json(200, { items: [] });
    });
    assert.deepEqual(await client.projects.list(), []);
    await client.tasks.list({ state: 'running' });
    await client.releases.list('a/b c');
    assert.deepEqual(
      calls.map((c) => c.url),
      [
        'https://longshore.example.com/base/api/projects',
        'https://longshore.example.com/base/api/tasks?state=running',
        'https://longshore.example.com/base/api/projects/a%2Fb%20c/releases',
      ],
    );
    assert.equal(new Headers(calls[0]!.init.headers).get('authorization'), 'Bearer key');
  });

  it('turns an error body into the coded LongshoreError it describes', async () => {
    const client = clientAnswering(async () =>
      json(404, { code: 'NOT_FOUND', message: "Project 'x' does not exist", details: { ref: 'x' } }),
    );
    const error = (await client.projects.get('x').catch((e: unknown) => e)) as LongshoreError;
    assert.ok(isErrorCode(error, 'NOT_FOUND'));
    assert.equal(error.message, "Project 'x' does not exist");
    assert.deepEqual(error.details, { ref: 'x' });
  });

  it("keeps a proxy's page that is not JSON as the message, coded by its status", async () => {
    const client = clientAnswering(async () => new Response('<html>bad gateway</html>', { status: 503 }));
    await assert.rejects(
      client.serverInfo(),
      (e) => isErrorCode(e, 'SERVER_UNREACHABLE') && /bad gateway/.test((e as Error).message),
    );
  });

  it('says the server cannot be reached when fetch fails, with its cause', async () => {
    const client = clientAnswering(async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
    });
    await assert.rejects(
      client.serverInfo(),
      (e) => isErrorCode(e, 'SERVER_UNREACHABLE') && /longshore\.example\.com.*ECONNREFUSED/.test((e as Error).message),
    );
  });

  it('gives up after the time limit with TIMEOUT, and rejects with the reason of a caller who aborts', async () => {
    const never: Answer = (_url, init) =>
      new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)));
    await assert.rejects(clientAnswering(never, 50).serverInfo(), (e) => isErrorCode(e, 'TIMEOUT'));
    const controller = new AbortController();
    const reason = new Error('the user left');
    const pending = clientAnswering(never).serverInfo(controller.signal);
    controller.abort(reason);
    await assert.rejects(pending, (e) => e === reason);
  });

  it('refuses a URL that is not http(s)', () => {
    assert.throws(
      () => new LongshoreClient({ url: 'ftp://example.com', apiKey: 'key' }),
      (e) => isErrorCode(e, 'CONFIG_INVALID'),
    );
  });
});

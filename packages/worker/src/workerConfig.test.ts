import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LongshoreError } from '@longshore/protocol';
import { isErrorCode } from '@longshore/protocol';
import { parseWorkerConfig, redactWorkerConfig } from './workerConfig.js';

const minimal = { serverUrl: 'https://longshore.example.com', name: 'worker-1', dataDir: '/var/lib/longshore' };

function problems(input: unknown): string[] {
  try {
    parseWorkerConfig(input);
  } catch (error) {
    assert.ok(isErrorCode(error, 'CONFIG_INVALID'));
    return (error as LongshoreError).details!.problems as string[];
  }
  assert.fail('expected CONFIG_INVALID');
}

describe('parseWorkerConfig', () => {
  it('fills in the defaults', () => {
    assert.deepEqual(parseWorkerConfig(minimal), {
      ...minimal,
      maxConcurrentOperations: 1,
      pollWaitMs: 30000,
      requestTimeoutMs: 30000,
      downloadTimeoutMs: 600000,
      drainDeadlineMs: 60000,
      rejectedRetryMs: 60000,
    });
  });

  it('converts numbers given as strings, as environment variables are', () => {
    const config = parseWorkerConfig({
      ...minimal,
      maxConcurrentOperations: '4',
      pollWaitMs: '1000',
      executor: 'kubernetes',
    });
    assert.equal(config.maxConcurrentOperations, 4);
    assert.equal(config.pollWaitMs, 1000);
    assert.equal(config.executor, 'kubernetes');
  });

  it('reports every problem with its path', () => {
    const found = problems({
      ...minimal,
      serverUrl: 'ftp://x',
      name: 'bad name!',
      maxConcurrentOperations: 0,
      pollWaitMs: 120000,
      extra: true,
      executor: 'docker',
    });
    for (const path of ['/serverUrl', '/name', '/maxConcurrentOperations', '/pollWaitMs', '/extra', '/executor']) {
      assert.ok(
        found.some((p) => p.startsWith(`${path}:`)),
        `${path} in ${found.join(' | ')}`,
      );
    }
    assert.ok(problems({ name: 'w' }).some((p) => p.startsWith('/dataDir:')));
    assert.deepEqual(problems({ ...minimal, serverUrl: 'http://[bad' }), ['/serverUrl: not a URL']);
  });

  it('takes a server thumbprint as the server or openssl prints it, for an HTTPS server only', () => {
    const hex = 'ab'.repeat(32);
    assert.equal(parseWorkerConfig({ ...minimal, serverThumbprint: hex }).serverThumbprint, hex);
    assert.ok(parseWorkerConfig({ ...minimal, serverThumbprint: hex.toUpperCase().replace(/(..)(?!$)/g, '$1:') }));
    assert.match(
      problems({ ...minimal, serverThumbprint: 'abc' })[0]!,
      /^\/serverThumbprint: expected 64 hex digits .*got 'abc'/,
    );
    assert.match(
      problems({ ...minimal, serverUrl: 'http://longshore:8080', serverThumbprint: hex })[0]!,
      /^\/serverThumbprint: pins an HTTPS server's certificate, but http:\/\/longshore:8080 is plain HTTP/,
    );
  });

  it('never shows the registration token when logged', () => {
    const config = parseWorkerConfig({ ...minimal, registrationToken: 'secret-token' });
    assert.equal(config.registrationToken, 'secret-token');
    assert.equal(JSON.stringify(redactWorkerConfig(config)).includes('secret-token'), false);
  });
});

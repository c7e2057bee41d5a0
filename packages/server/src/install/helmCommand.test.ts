import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isErrorCode } from '@longshore/protocol';
import { checkExtraValueKey, helmCommand, helmValue, releaseName, shellQuote } from './helmCommand.js';

/** What a POSIX shell makes of the words: each argument as the program receives it. */
function shellWords(line: string): string[] {
  return execFileSync('sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' })
    .split('\0')
    .slice(0, -1);
}

describe('shellQuote', () => {
  it('hands every argument to the program exactly as given', () => {
    const samples = [
      "it's",
      'two words',
      '',
      '$HOME',
      '`id`',
      '"quoted"',
      'a\\b',
      '{a,b}',
      '*',
      'x;rm -rf /',
      'line\nbreak',
      '--set=k=v',
      'ünïcode',
    ];
    const generated = fc.sample(
      fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')),
      200,
    );
    const args = [...samples, ...generated];
    assert.deepEqual(shellWords(args.map(shellQuote).join(' ')), args);
  });

  it('leaves plain words unquoted, so the command stays readable', () => {
    assert.equal(
      shellQuote('server.url=https://longshore.example.com:8443/path'),
      'server.url=https://longshore.example.com:8443/path',
    );
    assert.equal(shellQuote('worker.pools={a,b}'), "'worker.pools={a,b}'", 'braces would be expanded by bash');
  });
});

describe('helmValue', () => {
  it("escapes what helm's --set reads as syntax: commas, braces and backslashes", () => {
    assert.equal(helmValue('plain'), 'plain');
    assert.equal(helmValue('a,b'), 'a\\,b');
    assert.equal(helmValue('{x}'), '\\{x\\}');
    assert.equal(helmValue('c:\\path'), 'c:\\\\path');
  });
});

describe('checkExtraValueKey', () => {
  it('takes dotted chart value paths', () => {
    for (const key of [
      'scriptPods.pendingTimeout',
      'worker.maxConcurrentOperations',
      'scriptPods.tolerations[0].key',
      'image.tag',
      'server_x',
    ])
      checkExtraValueKey(key);
  });

  it('refuses what is not a path, and what the command sets itself, naming the key', () => {
    for (const key of ['', 'a b', 'a..b', '.a', 'a.', 'a=b', 'a,b', 'a\\.b', '1abc']) {
      assert.throws(
        () => checkExtraValueKey(key),
        (e) =>
          isErrorCode(e, 'VALIDATION_FAILED') &&
          (e as Error).message.startsWith(`values: '${key}' is not a chart value path`),
        key,
      );
    }
    for (const [key, clash] of [
      ['server.url', 'server.url'],
      ['server', 'server.url'],
      ['registration.token', 'registration.token'],
      ['registration.existingSecret', 'registration.existingSecret'],
      ['worker', 'worker.name'],
      ['worker.pools[0]', 'worker.pools'],
      ['server.url.x', 'server.url'],
    ]) {
      assert.throws(
        () => checkExtraValueKey(key!),
        (e) =>
          isErrorCode(e, 'VALIDATION_FAILED') &&
          (e as Error).message.startsWith(`values: '${key}' clashes with ${clash}`),
        key,
      );
    }
  });
});

describe('releaseName', () => {
  it('is a DNS label of at most 53 characters, named after the worker', () => {
    assert.equal(releaseName(undefined), 'longshore-worker');
    assert.equal(releaseName('Build_1.eu'), 'longshore-worker-build-1-eu');
    const long = releaseName('w'.repeat(35) + '.x');
    assert.ok(long.length <= 53 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(long), long);
  });
});

describe('helmCommand', () => {
  it('is one line: upgrade --install, the chart at the version, the namespace created, rolled back unless the worker turns ready, then the values in order', () => {
    const command = helmCommand({
      release: 'longshore-worker-k1',
      chart: 'oci://ghcr.io/longshore/charts/longshore-worker',
      version: '1.2.3',
      namespace: 'ci',
      values: {
        'server.url': 'https://s:8443',
        'worker.pools': ['a', 'b c'],
        'scriptPods.annotations.note': "it's, {odd}",
      },
    });
    assert.equal(
      command,
      "helm upgrade --install longshore-worker-k1 oci://ghcr.io/longshore/charts/longshore-worker --version 1.2.3 --namespace ci --create-namespace --atomic --wait --timeout 10m --set server.url=https://s:8443 --set 'worker.pools={a,b c}' --set 'scriptPods.annotations.note=it'\\''s\\, \\{odd\\}'",
    );
    assert.deepEqual(shellWords(command.replace(/^helm /, '')).slice(-2), [
      '--set',
      "scriptPods.annotations.note=it's\\, \\{odd\\}",
    ]);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerUpgrade } from './workerUpgrade.js';

test('a worker behind the server by SemVer has an upgrade; a local one is told the command', () => {
  const local = workerUpgrade({ name: 'w1', executor: 'local', version: '0.1.0' }, '0.2.0', 'https://s:8080');
  assert.equal(local.available, true);
  assert.match(local.command!, /Longshore 0\.2\.0.*longshore worker --server https:\/\/s:8080 --name w1/);
  assert.deepEqual(workerUpgrade({ name: 'k', executor: 'kubernetes', version: '0.1.0' }, '0.2.0', 'u'), {
    available: true,
    command: null,
  });
});

test('a worker at or ahead of the server, or with no SemVer version, has none', () => {
  for (const version of ['0.2.0', '0.3.0-rc.1', 'dev'])
    assert.deepEqual(workerUpgrade({ name: 'w', executor: 'local', version }, '0.2.0', 'u'), {
      available: false,
      command: null,
    });
  assert.equal(workerUpgrade({ name: 'w', executor: 'local', version: '0.2.0-rc.1' }, '0.2.0', 'u').available, true);
});

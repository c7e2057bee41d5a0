import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerUpgrade } from './workerUpgrade.js';

const shipped = { workerVersion: '0.2.0', chartVersion: '0.2.0' };
const worker = (executor: string, version: string, chartVersion?: string) => ({
  name: 'w1',
  executor,
  version,
  metadata: JSON.stringify(chartVersion ? { chartVersion } : {}),
});

test('a worker behind what the server ships has an upgrade: a local one is told the command, a Kubernetes one the server upgrade', () => {
  const local = workerUpgrade(worker('local', '0.1.0'), shipped, 'https://s:8080');
  assert.equal(local.available, true);
  assert.match(local.command!, /Longshore 0\.2\.0.*longshore worker --server https:\/\/s:8080 --name w1/);
  assert.deepEqual(workerUpgrade(worker('kubernetes', '0.1.0', '0.1.0'), shipped, 'u'), {
    available: true,
    command: 'longshore workers upgrade w1',
  });
});

test("a Kubernetes worker at the shipped version on an older chart is behind; a local worker's chart is not looked at", () => {
  assert.equal(workerUpgrade(worker('kubernetes', '0.2.0', '0.1.0'), shipped, 'u').available, true);
  assert.equal(workerUpgrade(worker('local', '0.2.0', '0.1.0'), shipped, 'u').available, false);
  assert.equal(workerUpgrade(worker('kubernetes', '0.2.0', '0.2.0'), shipped, 'u').available, false);
});

test('a worker at or ahead of the server, or with no SemVer version, has none', () => {
  for (const version of ['0.2.0', '0.3.0-rc.1', 'dev'])
    assert.deepEqual(workerUpgrade(worker('local', version), shipped, 'u'), { available: false, command: null });
  assert.equal(workerUpgrade(worker('local', '0.2.0-rc.1'), shipped, 'u').available, true);
  assert.equal(
    workerUpgrade({ ...worker('kubernetes', '0.2.0'), metadata: 'not json' }, shipped, 'u').available,
    false,
  );
});

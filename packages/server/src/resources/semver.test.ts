import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newestVersion, parseSemver } from './semver.js';

test('parses valid versions and refuses invalid ones', () => {
  for (const ok of ['0.0.1', '1.2.3', '1.2.3-beta.1', '1.0.0+build.5', '10.20.30-rc.1+x'])
    assert.ok(parseSemver(ok), ok);
  for (const bad of ['1', '1.2', '01.2.3', '1.2.3-', 'v1.2.3', 'latest', '1.2.3.4'])
    assert.equal(parseSemver(bad), undefined, bad);
});

test('newest follows semver precedence', () => {
  assert.equal(newestVersion(['1.0.0-alpha', '1.0.0', '1.0.0-rc.1', '0.9.9']), '1.0.0');
  assert.equal(newestVersion(['1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-alpha']), '1.0.0-alpha.beta');
  assert.equal(newestVersion(['2.0.0', '10.0.0', '9.9.9']), '10.0.0');
  assert.equal(newestVersion([]), undefined);
});

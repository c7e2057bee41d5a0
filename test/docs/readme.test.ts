import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderReadme } from '../../scripts/configDocs.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('the configuration tables in the README match the schemas (npm run docs)', async () => {
  assert.equal(readme, await renderReadme(readme));
});

test('the quick start and the CI script say the same test command', () => {
  assert.match(readme, /npm ci && npm start/);
  assert.match(readme, /^npm test$/m);
  const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
  assert.match(ci, /^npm test$/m);
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { minimumNode, nodeVersionProblem } from '../bin/requireNode.mjs';

const root = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const engines = (path: string): string =>
  (JSON.parse(readFileSync(root(path), 'utf8')) as { engines: { node: string } }).engines.node;

test('the CLI needs the Node.js the repository declares', () => {
  assert.equal(engines('packages/cli/package.json'), engines('package.json'));
  assert.equal(`>=${minimumNode}`, engines('package.json'));
});

test('versions below the minimum are refused with one line naming the minimum', () => {
  const [major, minor] = minimumNode.split('.').map(Number) as [number, number];
  for (const ok of [
    minimumNode,
    `${major}.${minor}.0`,
    `${major}.${minor + 3}.1`,
    `${major + 2}.0.0`,
    `v${major + 2}.1.0`,
  ])
    assert.equal(nodeVersionProblem(ok), undefined, ok);
  for (const old of ['20.20.2', `${major}.${minor - 1}.9`, `${major - 1}.99.0`, '0.12.0']) {
    const problem = nodeVersionProblem(old);
    assert.ok(problem, old);
    assert.doesNotMatch(problem, /\n/);
    assert.match(
      problem,
      new RegExp(
        `needs Node\\.js ${minimumNode.replace('.', '\\.')} or later.*this is Node\\.js ${old.replace(/\./g, '\\.')}`,
      ),
    );
  }
});

// The machines that build this have an older Node.js system-wide: the entry must stop on it at
// once, before a dependency crashes while loading.
const systemNode = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' });
const oldNode = systemNode.status === 0 && nodeVersionProblem(systemNode.stdout.trim()) ? '/usr/bin/node' : undefined;

test(
  '`longshore` on an older Node.js stops with that line and exit code 1',
  { skip: oldNode ? false : 'no Node.js older than the minimum at /usr/bin/node' },
  () => {
    const run = spawnSync(oldNode!, [root('packages/cli/bin/longshore.mjs'), 'demo'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`needs Node\\.js ${minimumNode.replace('.', '\\.')} or later`));
  },
);

test('`longshore` on this Node.js runs the CLI', () => {
  const run = spawnSync(process.execPath, [root('packages/cli/bin/longshore.mjs'), '--version'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^\d+\.\d+\.\d+/);
});

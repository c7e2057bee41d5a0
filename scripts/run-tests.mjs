#!/usr/bin/env node
// Runs every *.test.ts of the packages and test/ with node's test runner through tsx.
// Node 20's --test takes no globs, so the files are found here.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages', 'test', 'bench'];
const skip = new Set(['node_modules', 'dist', '.git']);
const only = process.argv.slice(2);

function find(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (skip.has(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) find(path, out);
    else if (e.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

// The longest files start first, so that none of them is left running alone at the end.
const LONGEST = [
  'test/api/openapiFuzz.test.ts',
  'test/e2e/workerUpgrade.test.ts',
  'test/control-plane/workerUpgrade.test.ts',
  'test/e2e/rightsizing.test.ts',
  'test/api/taskLogMemory.test.ts',
  'test/sandbox/autoscaling.test.ts',
  'test/e2e/storeFaults.test.ts',
  'test/api/planningLimits.test.ts',
];
const rank = (f) => {
  const i = LONGEST.indexOf(f);
  return i < 0 ? LONGEST.length : i;
};
let files = roots
  .flatMap((r) => find(r, []))
  .sort()
  .sort((a, b) => rank(a) - rank(b));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
// Two at a time fits the 2-core CI machine; more when the tests mostly wait (on a database, say).
const concurrency = Number(process.env.LONGSHORE_TEST_CONCURRENCY ?? 2);
const result = spawnSync(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=300000',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);

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

let files = roots.flatMap((r) => find(r, [])).sort();
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
const result = spawnSync(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);

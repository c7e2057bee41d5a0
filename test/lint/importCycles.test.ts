import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCycles, importGraph } from '../../scripts/importCycles.js';

function modules(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files).map((name) => join(dir, name));
}

test('a cycle through a type-only import is found, with every module in it', () => {
  const files = modules({
    'context.ts': "import type { Dispatcher } from './dispatcher.js';\nexport interface Context { d: Dispatcher }",
    'dispatcher.ts': "import { runner } from './runner.js';\nexport class Dispatcher {}",
    'runner.ts': "import type { Context } from './context.js';\nexport const runner = 1;",
    'leaf.ts': "import { runner } from './runner.js';",
  });
  const cycles = importCycles(importGraph(files));
  assert.equal(cycles.length, 1);
  assert.deepEqual(
    cycles[0]!.map((f) => f.split('/').pop()),
    ['context.ts', 'dispatcher.ts', 'runner.ts'],
  );
});

test('a tree of imports, re-exports and packages has no cycle', () => {
  const files = modules({
    'index.ts': "export * from './a.js';\nexport { b } from './b.js';",
    'a.ts': "import { b } from './b.js';\nimport { x } from 'some-package';\nexport const a = b;",
    'b.ts': 'export const b = 1;',
  });
  assert.deepEqual(importCycles(importGraph(files)), []);
});

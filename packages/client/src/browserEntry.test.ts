import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm;

/** Every module the file loads at run time (type-only imports are erased), following relative ones and the protocol's entry (its sources, under the `source` condition). */
function runtimeImports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    if (/^\s*(?:import|export)\s+type\s/.test(match[0])) continue;
    const specifier = (match[1] ?? match[2])!;
    if (specifier.startsWith('.')) runtimeImports(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), seen);
    else if (specifier === '@longshore/protocol') runtimeImports(fileURLToPath(import.meta.resolve(specifier)), seen);
    else seen.add(specifier);
  }
  return seen;
}

it('the main entry loads no Node module, so a browser can bundle it', () => {
  const loaded = [...runtimeImports(fileURLToPath(new URL('./index.ts', import.meta.url)))];
  assert.ok(loaded.some((file) => file.endsWith('longshoreClient.ts')));
  assert.ok(loaded.some((file) => file.includes('protocol')));
  assert.deepEqual(
    loaded.filter((module) => !module.startsWith('/')),
    ['@sinclair/typebox'],
  );
});

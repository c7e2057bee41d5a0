import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'longshore-worker-tests-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

let count = 0;

/** A fresh directory, removed with all the others when the test process exits. */
export function tempDir(prefix = 'dir'): string {
  const dir = join(root, `${prefix}-${++count}`);
  mkdirSync(dir);
  return dir;
}

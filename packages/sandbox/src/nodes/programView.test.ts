import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONTAINER_ENGINES, programView } from './programView.js';

test("an image's PATH links the host's programs, the first of a name, and leaves out the container engines", () => {
  const root = mkdtempSync(join(tmpdir(), 'program-view-'));
  try {
    const program = (dir: string, name: string, mode = 0o755): void => {
      mkdirSync(join(root, dir), { recursive: true });
      writeFileSync(join(root, dir, name), '#!/bin/sh\n');
      chmodSync(join(root, dir, name), mode);
    };
    program('a', 'sh');
    program('a', 'docker');
    program('a', 'notes.txt', 0o644);
    program('b', 'sh');
    program('b', 'jq');
    program('b', 'podman');
    const view = programView(
      join(root, 'view'),
      [join(root, 'a'), 'relative', join(root, 'missing'), join(root, 'b')].join(':'),
      CONTAINER_ENGINES,
    );
    assert.deepEqual(readdirSync(view).sort(), ['jq', 'sh']);
    assert.equal(readlinkSync(join(view, 'sh')), join(root, 'a', 'sh'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

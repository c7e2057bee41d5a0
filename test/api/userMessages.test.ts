// What a user reads when a document is wrong: the unknown key named (with the key it was likely
// meant to be), a choice listed once, a missing pool placed in its project, and a hostile YAML
// file refused by the CLI with one line, no stack trace.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cliProcess.js';
import { startHarness, type Harness } from '../support/serverHarness.js';

describe('messages about bad documents', () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'longshore-messages-'));
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const step = (fields: Record<string, unknown>) => ({
    projects: [{ name: 'Shop', process: { steps: [{ name: 'Build', ...fields }] } }],
  });

  test('an unknown key is named, with the known key it was likely meant to be', async () => {
    const r = await h.api('POST', '/api/apply', step({ scirpt: { body: 'echo hi' } }));
    assert.equal(r.status, 400);
    assert.match(
      r.body.message,
      /^body\.projects\.0\.process\.steps\.0\.scirpt is not a known field \(did you mean script\?\); body\.projects\.0\.process\.steps\.0\.script is required$/,
    );
  });

  test('a value outside a fixed choice lists the choices once', async () => {
    const r = await h.api('POST', '/api/apply', step({ script: { body: 'echo', syntax: 'cobol' } }));
    assert.equal(r.status, 400);
    assert.match(r.body.message, /^body\.projects\.0\.process\.steps\.0\.script\.syntax must be one of: sh(, \w+)+$/);
  });

  test('a missing worker pool is placed in its project and step', async () => {
    const r = await h.api('POST', '/api/apply', step({ script: { body: 'echo' }, runOn: { pool: 'NoSuchPool' } }));
    assert.equal(r.status, 400);
    assert.equal(
      r.body.message,
      "projects[0] 'Shop': process.steps[0].runOn.pool: worker pool 'NoSuchPool' does not exist",
    );
  });

  test('a YAML alias bomb given to `longshore apply` is one line naming the file, no stack trace', async () => {
    const file = join(dir, 'bomb.yaml');
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `l${i}: &l${i} [${Array(9)
          .fill(i === 1 ? '*a' : `*l${i - 1}`)
          .join(',')}]`,
      );
    writeFileSync(file, levels.join('\n') + '\n');
    const { code, output } = await runCli(['apply', '-f', file, '--url', h.url], { LONGSHORE_API_KEY: h.apiKey });
    assert.equal(code, 1);
    assert.match(
      output,
      new RegExp(`^error \\[VALIDATION_FAILED\\]: ${file} cannot be read: its aliases expand too far`),
    );
    assert.equal(output.trim().split('\n').length, 1, output);
  });
});

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';

/** .ci/run installs this version into the cache and exports its path; the same default finds it after one run there. */
const SCHEMATHESIS =
  process.env.LONGSHORE_SCHEMATHESIS ??
  join(process.env.LONGSHORE_CACHE ?? join(homedir(), '.cache', 'longshore'), 'schemathesis-4.32.5', 'bin', 'st');

/**
 * Examples per operation. The coverage phase (every operation's boundary values) does not depend
 * on it; the random phase does. 20, with the seed fixed, takes about 45 s on two idle cores and
 * under 2 minutes on two cores shared with other work. More finds more, slowly: raise it by hand
 * (LONGSHORE_FUZZ_EXAMPLES) when changing the API; 150 ran clean in 6 minutes.
 */
const MAX_EXAMPLES = process.env.LONGSHORE_FUZZ_EXAMPLES ?? '20';
const SEED = '20261202';
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'response_schema_conformance',
  'content_type_conformance',
  'response_headers_conformance',
];

/**
 * Not fuzzed (the walk in openApiContract.test.ts calls them):
 * - the task log's event stream stays open while its task runs, and the fuzzer's deployments
 *   never finish (no worker runs them), so a call that finds a real task waits for its time limit;
 * - deleting API keys and workers: the fuzzer finds the ids it is given in listings and would
 *   revoke its own credentials, leaving every later call a 401 that tests nothing;
 * - single sign-on's start and callback answer with a redirect to the portal's page, which the
 *   fuzzer's HTTP client follows and then judges the page by the route's document
 *   (oidcSignIn.test.ts drives them with a real provider).
 */
const EXCLUDED_OPERATIONS = [
  'GET /api/tasks/{id}/log/stream',
  'DELETE /api/api-keys/{id}',
  'DELETE /api/workers/{ref}',
  'GET /api/sessions/oidc/start',
  'GET /api/sessions/oidc/callback',
];

/** Credentials by the document's security scheme names, so worker routes are fuzzed as a worker and the rest with the admin key. */
async function schemathesisConfig(h: Harness, dir: string): Promise<string> {
  const { token } = (await h.api('POST', '/api/registration-tokens', {})).body as { token: string };
  const registered = await h.api('POST', '/api/agent/register', {
    token,
    name: 'fuzz-worker',
    executor: 'local',
    version: 'fuzz',
    capacity: 1,
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const path = join(dir, 'schemathesis.toml');
  writeFileSync(
    path,
    `[auth.openapi.apiKey]\nbearer = "${h.apiKey}"\n\n[auth.openapi.workerCredential]\nbearer = "${(registered.body as { credential: string }).credential}"\n`,
  );
  return path;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test(
  'schemathesis finds no server error, undocumented status, or response that breaks the published document',
  {
    skip: existsSync(SCHEMATHESIS)
      ? false
      : `schemathesis is not installed at ${SCHEMATHESIS} (.ci/run installs it; or set LONGSHORE_SCHEMATHESIS)`,
    timeout: 300_000,
  },
  async (t) => {
    const h = await startHarness({ maxPollWaitMs: 100, leaseMs: 5_000 });
    const dir = mkdtempSync(join(tmpdir(), 'longshore-fuzz-'));
    try {
      const config = await schemathesisConfig(h, dir);
      // The document is behind the API key; schemathesis reads it from a file and calls the server's URL.
      const document = join(dir, 'openapi.json');
      writeFileSync(document, JSON.stringify((await h.api('GET', '/api/openapi.json')).body));
      const args = [
        '--config-file',
        config,
        'run',
        document,
        '--url',
        h.url,
        '--checks',
        CHECKS.join(','),
        '--max-examples',
        MAX_EXAMPLES,
        '--seed',
        SEED,
        '--workers',
        '1',
        '--request-timeout',
        '10',
        '--generation-database',
        'none',
        '--no-color',
        ...EXCLUDED_OPERATIONS.flatMap((name) => ['--exclude-name', name]),
      ];
      const { code, output } = await run(SCHEMATHESIS, args, dir);
      assert.equal(code, 0, `schemathesis ${args.join(' ')} failed:\n${output}`);
      // How much was tested, in the runner's report: a run that tests little passes too.
      for (const line of output.split('\n').filter((l) => /Tested:|generated,| in [\d.]+s =/.test(l)))
        t.diagnostic(line.replaceAll('=', '').trim());
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

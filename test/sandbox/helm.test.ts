// The sandbox driven by an unmodified helm 3.17: install, upgrade (helm's three-way
// strategic merge patches) and uninstall of test/fixtures/charts/sample (ServiceAccount, Role,
// RoleBinding, ConfigMap, Secret, PodDisruptionBudget, Deployment).
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { type RunResult, clientsMissing, eventually, sandboxForSuite, succeeded } from './support.js';

const chart = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'charts', 'sample');

describe('helm against the sandbox', { skip: clientsMissing() }, () => {
  const suite = sandboxForSuite();

  const ok = (r: Promise<RunResult>): Promise<string> => succeeded(r);
  const kinds = ['serviceaccount', 'role', 'rolebinding', 'configmap', 'secret', 'poddisruptionbudget', 'deployment'];

  test('install, upgrade and uninstall the sample chart', async () => {
    await ok(suite.env.helm(['install', 'rel', chart, '-n', 'h1', '--create-namespace'], { timeoutMs: 60_000 }));
    for (const k of kinds) await ok(suite.env.kubectl(['get', k, 'rel-sample', '-n', 'h1']));
    assert.match(await ok(suite.env.helm(['list', '-n', 'h1'])), /rel\s+h1\s+1\s+.*deployed/);
    await eventually(
      'the deployment has a pod',
      async () => (await ok(suite.env.kubectl(['get', 'pods', '-n', 'h1', '-o', 'name']))).trim() !== '',
    );

    const before = suite.sb.audit.lastSeq;
    await ok(
      suite.env.helm(['upgrade', 'rel', chart, '-n', 'h1', '--set', 'worker.name=renamed', '--set', 'replicaCount=2'], {
        timeoutMs: 60_000,
      }),
    );
    const patched = suite.sb.audit
      .entries({ afterSeq: before, verb: 'patch' })
      .map((e) => `${e.resource}/${e.name}:${e.code}`);
    assert.ok(patched.includes('configmaps/rel-sample:200'), `helm patched the ConfigMap: ${patched.join(' ')}`);
    assert.match(
      await ok(
        suite.env.kubectl(['get', 'configmap', 'rel-sample', '-n', 'h1', '-o', 'jsonpath={.data.worker\\.json}']),
      ),
      /renamed/,
    );
    assert.equal(
      await ok(suite.env.kubectl(['get', 'deployment', 'rel-sample', '-n', 'h1', '-o', 'jsonpath={.spec.replicas}'])),
      '2',
    );
    assert.match(await ok(suite.env.helm(['history', 'rel', '-n', 'h1'])), /2\s+.*deployed\s+sample-0\.1\.0/);

    await ok(suite.env.helm(['uninstall', 'rel', '-n', 'h1'], { timeoutMs: 60_000 }));
    for (const k of kinds) {
      const r = await suite.env.kubectl(['get', k, 'rel-sample', '-n', 'h1']);
      assert.match(r.stderr, /NotFound/, `${k} removed`);
    }
    // The garbage collector removes what the Deployment owned.
    await eventually(
      'replica sets and pods collected',
      async () => (await ok(suite.env.kubectl(['get', 'rs,pods', '-n', 'h1', '-o', 'name']))).trim() === '',
    );
  });
});

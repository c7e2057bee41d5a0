// The sandbox driven by an unmodified helm 3.17: install, upgrade (helm's three-way
// strategic merge patches) and uninstall of test/fixtures/charts/sample (ServiceAccount, Role,
// RoleBinding, ConfigMap, Secret, PodDisruptionBudget, Deployment).
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { ClientEnv, clientsMissing, eventually } from './support.js';

const chart = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'charts', 'sample');

describe('helm against the sandbox', { skip: clientsMissing() }, () => {
  let sb: Sandbox;
  let env: ClientEnv;
  before(async () => {
    sb = await startSandbox();
    env = new ClientEnv(sb.kubeconfigPath);
  });
  after(async () => { await sb?.stop(); env?.cleanup(); });

  const ok = async (r: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> => {
    const x = await r;
    assert.equal(x.code, 0, x.stderr);
    return x.stdout;
  };
  const kinds = ['serviceaccount', 'role', 'rolebinding', 'configmap', 'secret', 'poddisruptionbudget', 'deployment'];

  test('install, upgrade and uninstall the sample chart', async () => {
    await ok(env.helm(['install', 'rel', chart, '-n', 'h1', '--create-namespace'], { timeoutMs: 60_000 }));
    for (const k of kinds) await ok(env.kubectl(['get', k, 'rel-sample', '-n', 'h1']));
    assert.match(await ok(env.helm(['list', '-n', 'h1'])), /rel\s+h1\s+1\s+.*deployed/);
    await eventually('the deployment has a pod', async () => (await ok(env.kubectl(['get', 'pods', '-n', 'h1', '-o', 'name']))).trim() !== '');

    const before = sb.audit.lastSeq;
    await ok(env.helm(['upgrade', 'rel', chart, '-n', 'h1', '--set', 'worker.name=renamed', '--set', 'replicaCount=2'], { timeoutMs: 60_000 }));
    const patched = sb.audit.entries({ afterSeq: before, verb: 'patch' }).map((e) => `${e.resource}/${e.name}:${e.code}`);
    assert.ok(patched.includes('configmaps/rel-sample:200'), `helm patched the ConfigMap: ${patched.join(' ')}`);
    assert.match(await ok(env.kubectl(['get', 'configmap', 'rel-sample', '-n', 'h1', '-o', 'jsonpath={.data.worker\\.json}'])), /renamed/);
    assert.equal(await ok(env.kubectl(['get', 'deployment', 'rel-sample', '-n', 'h1', '-o', 'jsonpath={.spec.replicas}'])), '2');
    assert.match(await ok(env.helm(['history', 'rel', '-n', 'h1'])), /2\s+.*deployed\s+sample-0\.1\.0/);

    await ok(env.helm(['uninstall', 'rel', '-n', 'h1'], { timeoutMs: 60_000 }));
    for (const k of kinds) {
      const r = await env.kubectl(['get', k, 'rel-sample', '-n', 'h1']);
      assert.match(r.stderr, /NotFound/, `${k} removed`);
    }
    // The garbage collector removes what the Deployment owned.
    await eventually('replica sets and pods collected', async () => (await ok(env.kubectl(['get', 'rs,pods', '-n', 'h1', '-o', 'name']))).trim() === '');
  });
});

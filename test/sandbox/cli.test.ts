import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from '../support/cliProcess.js';
import { ClientEnv, clientsMissing, kubectlPath } from './support.js';

test(
  '`longshore sandbox` prints the export line, and kubectl lists the namespaces through it',
  { skip: clientsMissing() },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
    const sandbox = startCli(['sandbox', '--kubeconfig', join(dir, 'kubeconfig')]);
    try {
      const [, path] = await sandbox.waitForOutput(/export KUBECONFIG=(\S+)/);
      assert.equal(path, join(dir, 'kubeconfig'));
      const kubectl = new ClientEnv(path!);
      const ns = await kubectl.run(kubectlPath(), ['get', 'namespaces', '-o', 'name']);
      assert.equal(ns.code, 0, ns.stderr);
      assert.match(ns.stdout, /namespace\/default/);
      assert.match(ns.stdout, /namespace\/kube-system/);
    } finally {
      assert.equal(await sandbox.kill('SIGTERM'), 0, 'a graceful stop exits 0');
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('`longshore sandbox --config` refuses an unknown key with its path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
  writeFileSync(join(dir, 'sandbox.yaml'), 'port: 0\nnodeGroupz: []\n');
  const sandbox = startCli(['sandbox', '--config', join(dir, 'sandbox.yaml')]);
  assert.equal(await sandbox.exited, 1);
  assert.match(sandbox.output(), /unknown key nodeGroupz/);
  rmSync(dir, { recursive: true, force: true });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
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

test('`longshore sandbox --config` lists every problem of the file in one line, without a stack', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
  writeFileSync(
    join(dir, 'sandbox.yaml'),
    'port: many\ncluster:\n  containerRuntime: docker\n  images:\n    app: { workingDir: app }\n',
  );
  const sandbox = startCli(['sandbox', '--config', join(dir, 'sandbox.yaml')]);
  assert.equal(await sandbox.exited, 1);
  const output = sandbox.output().trim();
  assert.match(output, /^error \[CONFIG_INVALID\]: The sandbox configuration is not valid: /);
  for (const problem of [
    /port must be an integer from 0 to 65535, got "many"/,
    /cluster\.containerRuntime must be auto, bubblewrap or unshare/,
    /cluster\.images\["app"\]\.workingDir must be an absolute path/,
  ])
    assert.match(output, problem);
  assert.equal(output.split('\n').length, 1, output);
  rmSync(dir, { recursive: true, force: true });
});

test('`longshore sandbox` on a port in use says so in one line, with its code and no stack', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as { port: number };
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
  try {
    const sandbox = startCli(['sandbox', '--port', String(port), '--kubeconfig', join(dir, 'kubeconfig')]);
    assert.equal(await sandbox.exited, 1);
    const output = sandbox.output().trim();
    assert.match(
      output,
      new RegExp(`^error \\[LISTEN_FAILED\\]: the sandbox cannot listen on 127\\.0\\.0\\.1:${port}: `),
    );
    assert.doesNotMatch(output, /\n\s+at /);
  } finally {
    taken.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// `npm start` as a user runs it: `longshore demo` as a process. The Kubernetes demo deploys the
// example project through script pods on the sandbox cluster, the pending pods are explained
// live as the autoscaler adds nodes, and the added nodes are removed again once empty. The
// sandbox config here shortens the delays of examples/sandbox.yaml and picks the runtime a
// machine without bubblewrap gets (unshare), so the quick start's fallback runs here too.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAST_SERVER_ENV } from '../support/lab.js';
import { freePort, startCli } from '../support/cliProcess.js';
import { ClientEnv, kubectlPath } from '../sandbox/support.js';

const dir = mkdtempSync(join(tmpdir(), 'longshore-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FAST_SANDBOX = `
cluster:
  nodeGroups:
    - { name: default, min: 1, max: 1, cpu: "2", memory: 4Gi }
    - { name: autoscaled, min: 0, max: 5, cpu: "2", memory: 4Gi, provisioningDelayMs: 500 }
  autoscaler: { scanIntervalMs: 200, scaleDownUnneededMs: 1500 }
  containerRuntime: unshare
`;

const indexOf = (out: string, pattern: RegExp): number => {
  const m = pattern.exec(out);
  assert.ok(m, `${pattern} in:\n${out}`);
  return m.index;
};

test('the Kubernetes demo: pending pods explained live, nodes added, the deployment succeeds, the added nodes removed', async () => {
  const sandboxConfig = join(dir, 'sandbox.yaml');
  writeFileSync(sandboxConfig, FAST_SANDBOX);
  const data = join(dir, 'kubernetes');
  const demo = startCli(
    ['demo', '--port', String(await freePort()), '--data', data, '--sandbox-config', sandboxConfig],
    FAST_SERVER_ENV,
  );
  try {
    await demo.waitForOutput(/Press Ctrl-C to stop/, 90_000);
    const out = demo.output();
    if (process.env.SHOW_OUTPUT) console.log(out);
    assert.match(
      out,
      /Sandbox cluster at https:\/\/127\.0\.0\.1:\d+: nodes sandbox-default; containers isolated with (unshare|bubblewrap \(unshare was asked for but does not work here: .*\)); pods share this machine's network \(their ports are its ports\)\n/,
    );
    const waiting = indexOf(
      out,
      /\[Migrate@shard-\d\] Waiting for a node: 0\/1 nodes are available: 1 Insufficient cpu\./,
    );
    const adding = indexOf(
      out,
      /\[Migrate@shard-\d\] The cluster autoscaler is adding a node \(group autoscaled, \d -> \d\)\./,
    );
    const joined = indexOf(out, /\[sandbox\] node autoscaled-\w+ joined the cluster \(\d nodes\)/);
    for (const shard of ['shard-1', 'shard-2', 'shard-3'])
      assert.match(out, new RegExp(`\\[Migrate@${shard}\\] ${shard} is on the new schema`));
    assert.match(out, /\[Build\] Using database password \*{8}\n/);
    const succeeded = indexOf(out, /The demo deployment succeeded\./);
    const removed = indexOf(
      out,
      /\[sandbox\] node autoscaled-\w+ was removed by the cluster autoscaler: it stayed unneeded for 2 s/,
    );
    const back = indexOf(out, /The sandbox cluster is back to its always-on nodes\./);
    assert.ok(waiting < adding && adding < joined && joined < succeeded && joined < removed && succeeded < back, out);
    const kubeconfig = join(data, 'sandbox', 'kubeconfig');
    assert.match(out, new RegExp(`export KUBECONFIG=${kubeconfig}`));
    assert.match(out, /npm run -s longshore -- deploy Storefront --to Production --follow/);

    if (existsSync(kubectlPath())) {
      const kubectl = new ClientEnv(kubeconfig);
      try {
        const nodes = await kubectl.kubectl(['get', 'nodes', '-o', 'name']);
        assert.equal(nodes.stdout, 'node/sandbox-default\n', nodes.stderr);
        const scaleUps = await kubectl.kubectl([
          'get',
          'events',
          '-A',
          '--field-selector',
          'reason=TriggeredScaleUp',
          '-o',
          'name',
        ]);
        assert.ok(scaleUps.stdout.trim().split('\n').length >= 2, scaleUps.stdout + scaleUps.stderr);
      } finally {
        kubectl.cleanup();
      }
    }
    const stopping = Date.now();
    assert.equal(await demo.kill('SIGINT'), 0, demo.output());
    assert.ok(Date.now() - stopping < 10_000, 'Ctrl-C stops the demo at once');
  } finally {
    await demo.kill('SIGKILL');
  }
});

test('the local demo (--executor local) deploys the first example with a local worker', async () => {
  const demo = startCli(
    ['demo', '--executor', 'local', '--port', String(await freePort()), '--data', join(dir, 'local')],
    FAST_SERVER_ENV,
  );
  try {
    await demo.waitForOutput(/Press Ctrl-C to stop/, 60_000);
    const out = demo.output();
    assert.match(out, /deploying Hello to Staging/);
    assert.match(out, /\[Roll out@web-1\] Greeting: Hello from staging/);
    assert.match(out, /The demo deployment succeeded\./);
    assert.doesNotMatch(out, /Sandbox cluster/);
    assert.equal(await demo.kill('SIGINT'), 0, demo.output());
  } finally {
    await demo.kill('SIGKILL');
  }
});

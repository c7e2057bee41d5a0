import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { Lab } from '../support/lab.js';
import { expectNothingLeft } from '../support/scriptObjects.js';

/**
 * A TCP proxy in front of the sandbox's API server that can go dark: every connection cut and
 * new ones refused, as when a control plane restarts or the network between worker and API fails.
 */
class FlakyProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: number) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async outage(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server!.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    await new Promise((r) => setTimeout(r, ms));
    await this.open();
  }

  close(): void {
    this.server?.close();
    for (const s of this.sockets) s.destroy();
  }
}

let lab: Lab;
let sandbox: Sandbox;
let proxy: FlakyProxy;

before(async () => {
  sandbox = await startSandbox();
  lab = new Lab();
  await lab.startServer();
  const kubeconfig = readFileSync(sandbox.kubeconfigPath, 'utf8');
  const apiPort = Number(/server: https:\/\/127\.0\.0\.1:(\d+)/.exec(kubeconfig)![1]);
  proxy = new FlakyProxy(apiPort);
  await proxy.open();
  const proxied = join(lab.dir, 'proxied-kubeconfig');
  writeFileSync(proxied, kubeconfig.replace(`127.0.0.1:${apiPort}`, `127.0.0.1:${proxy.port}`));
  await lab.apply(
    'environments: [ { name: Cluster } ]\nworkerPools: [ { name: Patched }, { name: Flaky }, { name: Plain } ]\n',
  );
  await lab.startKubernetesWorker('patched', {
    kubeconfig: sandbox.kubeconfigPath,
    pools: ['Patched'],
    scriptPods: 'podSpecPatch: { dnsPolicy: Sometimes }\n',
  });
  await lab.startKubernetesWorker('plain', { kubeconfig: sandbox.kubeconfigPath, pools: ['Plain'] });
  await lab.startKubernetesWorker('flaky', {
    kubeconfig: proxied,
    pools: ['Flaky'],
    scriptPods: 'apiTimeoutMs: 2000\n',
  });
});
after(async () => {
  proxy?.close();
  await lab?.close();
  await sandbox?.stop();
});

test("a podSpecPatch that makes an invalid pod: the API server's 422 in the task log, failed, nothing left behind", async () => {
  await lab.apply(`
projects:
  - name: Patchy
    process:
      steps:
        - name: Patched
          runOn: { pool: Patched }
          script: { body: 'echo never' }
`);
  const res = await lab.cli(['deploy', 'Patchy', '--to', 'Cluster', '--follow']);
  assert.equal(res.code, 2, res.output);
  assert.match(
    res.output,
    /Step 'Patched': failed - The script pod could not be created: .*spec\.dnsPolicy: Unsupported value: "Sometimes"/,
  );
  assert.ok(!res.output.includes('never'));
  await expectNothingLeft(sandbox.kubeconfigPath, 'patched');
});

test('the API server unreachable for a while: the worker retries and the running operation finishes with its whole log', async () => {
  await lab.apply(`
projects:
  - name: Steady
    process:
      steps:
        - name: Count
          runOn: { pool: Flaky }
          script: { body: 'i=1; while [ $i -le 60 ]; do echo "tick $i"; i=$((i+1)); sleep 0.1; done' }
`);
  const taskId = JSON.parse((await lab.cli(['deploy', 'Steady', '--to', 'Cluster', '--output', 'json'])).output)
    .taskId as string;
  const deadline = Date.now() + 30_000;
  while (!(await lab.taskLog(taskId)).some((l) => l.text === 'tick 5')) {
    assert.ok(Date.now() < deadline, 'the script runs');
    await new Promise((r) => setTimeout(r, 100));
  }
  await proxy.outage(3000);
  const task = await lab.waitForTask(taskId, ['succeeded', 'failed', 'cancelled'], 60_000);
  const ticks = (await lab.taskLog(taskId)).map((l) => l.text as string).filter((t) => t.startsWith('tick '));
  assert.equal(task.state, 'succeeded', JSON.stringify(task));
  assert.deepEqual(
    ticks,
    Array.from({ length: 60 }, (_, i) => `tick ${i + 1}`),
  );
  await expectNothingLeft(sandbox.kubeconfigPath, 'flaky');
});

test('an image name that is no image reference: InvalidImageName as the kubelet says it, and the step fails at once', async () => {
  await lab.apply(`
projects:
  - name: BadImage
    process:
      steps:
        - name: Bad
          runOn: { pool: Plain }
          container: { image: 'Bad_Image::x' }
          script: { body: 'echo never' }
`);
  const started = Date.now();
  const res = await lab.cli(['deploy', 'BadImage', '--to', 'Cluster', '--follow']);
  assert.equal(res.code, 2, res.output);
  // Not after scriptPods.imagePullGraceMs (30 s), as a pull that may yet work would be.
  assert.ok(Date.now() - started < 20_000, `failed after ${Date.now() - started} ms`);
  assert.match(
    res.output,
    /Step 'Bad': failed - The container '\S+' cannot start: InvalidImageName: Failed to apply default image tag "Bad_Image::x": couldn't parse image name "Bad_Image::x": invalid reference format: repository name \(library\/Bad_Image\) must be lowercase/,
  );
  assert.ok(!/ErrImagePull|not found/.test(res.output), res.output);
  await expectNothingLeft(sandbox.kubeconfigPath, 'plain');
});

test("a script that calls docker in the worker-tools image: not found there, so the task log has the worker's hint", async () => {
  await lab.apply(`
projects:
  - name: Dockerish
    process:
      steps:
        - name: Build
          runOn: { pool: Plain }
          script: { body: 'docker build -t app .' }
`);
  const res = await lab.cli(['deploy', 'Dockerish', '--to', 'Cluster', '--follow']);
  assert.equal(res.code, 2, res.output);
  assert.match(res.output, /docker: (command )?not found/);
  assert.match(res.output, /Hint: this script calls docker, and the Kubernetes worker has no Docker/);
  await expectNothingLeft(sandbox.kubeconfigPath, 'plain');
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig, Watch, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { Lab } from '../support/lab.js';
import type { CliProcess } from '../support/cliProcess.js';

let lab: Lab;
let sandbox: Sandbox;
let worker: CliProcess;

before(async () => {
  sandbox = await startSandbox();
  lab = new Lab();
  await lab.startServer();
  worker = await lab.startKubernetesWorker('k8s-packages', {
    kubeconfig: sandbox.kubeconfigPath,
    scriptPods: 'imagePullGraceMs: 1500\n',
  });
});
after(async () => {
  await lab?.close();
  await sandbox?.stop();
});

/** Pushes a .tar.gz of these files to the server's feed; answers the archive's path. */
async function pushPackage(packageId: string, version: string, files: Record<string, string>): Promise<string> {
  const source = join(lab.dir, `${packageId}-src`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(source, name, '..'), { recursive: true });
    writeFileSync(join(source, name), content);
  }
  const archive = join(lab.dir, `${packageId}.${version}.tar.gz`);
  execFileSync('tar', ['-czf', archive, '-C', source, ...Object.keys(files)]);
  const res = await fetch(`${lab.url}/api/packages/${packageId}/${version}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${lab.apiKey}`, 'content-type': 'application/octet-stream' },
    body: readFileSync(archive),
  });
  assert.equal(res.status, 201, await res.text());
  return archive;
}

/** Records every script pod and Secret created while `run` runs. */
async function watching<T>(run: () => Promise<T>): Promise<{ result: T; pods: V1Pod[]; secrets: V1Secret[] }> {
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  const pods: V1Pod[] = [];
  const secrets: V1Secret[] = [];
  const watch = new Watch(kc);
  const podWatch = await watch.watch(
    '/api/v1/namespaces/default/pods',
    { labelSelector: 'longshore.io/worker' },
    (type: string, pod: V1Pod) => {
      if (type === 'ADDED') pods.push(pod);
    },
    () => {},
  );
  const secretWatch = await watch.watch(
    '/api/v1/namespaces/default/secrets',
    { labelSelector: 'longshore.io/worker' },
    (type: string, secret: V1Secret) => {
      if (type === 'ADDED') secrets.push(secret);
    },
    () => {},
  );
  try {
    return { result: await run(), pods, secrets };
  } finally {
    podWatch.abort();
    secretWatch.abort();
  }
}

test('a step uses a package in a script pod: the init container fetches it where the script looks, with a token only the Secret holds', async () => {
  await pushPackage('tools', '1.0.0', {
    'greeting.txt': 'hello from the tools package\n',
    'bin/hello.sh': 'echo "hello.sh ran in $(pwd)"\n',
  });
  await lab.apply(`
environments: [ { name: Cluster } ]
projects:
  - name: Packaged
    process:
      steps:
        - name: UsePackage
          packages: [ { packageId: tools } ]
          script:
            body: |
              cat packages/tools/greeting.txt
              sh packages/tools/bin/hello.sh
`);
  const {
    result: res,
    pods,
    secrets,
  } = await watching(() => lab.cli(['deploy', 'Packaged', '--to', 'Cluster', '--follow']));
  if (process.env.SHOW_OUTPUT) console.log(res.output);
  assert.equal(res.code, 0, res.output);
  assert.match(res.output, /\[UsePackage\] hello from the tools package/);
  assert.match(res.output, /\[UsePackage\] hello\.sh ran in \/longshore\/work/);

  assert.equal(pods.length, 1, 'one pod per operation');
  const pod = pods[0]!;
  const init = pod.spec!.initContainers?.[0];
  assert.equal(init?.name, 'packages');
  assert.deepEqual(init?.command?.slice(0, 2), ['longshore', 'fetch-packages']);
  const secret = secrets.find((s) => s.metadata!.name === `${pod.metadata!.name}-workspace`);
  assert.ok(secret?.data?.['fetch-token'], 'the Secret holds the package token');
  const token = Buffer.from(secret.data['fetch-token'], 'base64').toString();
  assert.match(token, /^lsp_/);
  assert.ok(!JSON.stringify(pod).includes(token), 'the token is not in the pod spec');
  assert.ok(!res.output.includes(token), 'nor in the task log');
  assert.ok(!worker.output().includes(token), "nor in the worker's log");
  assert.ok(!lab.server!.output().includes(token), "nor in the server's log");
});

test('a package file damaged on the server is not served: the step fails with the reason, and the script never runs', async () => {
  const archive = await pushPackage('tampered', '1.0.0', { 'payload.txt': 'the original content\n'.repeat(20) });
  // Tampered at rest: same size, one byte changed, so only the checksum can tell.
  const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
  const stored = join(lab.dataDir, 'packages', 'sha256', sha256.slice(0, 2), sha256);
  const bytes = readFileSync(stored);
  assert.deepEqual(bytes, readFileSync(archive));
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = bytes[middle]! ^ 0xff;
  writeFileSync(stored, bytes);
  await lab.apply(`
projects:
  - name: Tampered
    process:
      steps:
        - name: UseTampered
          packages: [ { packageId: tampered } ]
          script: { body: 'echo "the script ran"' }
`);
  const res = await lab.cli(['deploy', 'Tampered', '--to', 'Cluster', '--follow']);
  if (process.env.SHOW_OUTPUT) console.log(res.output);
  assert.equal(res.code, 2, res.output);
  assert.match(
    res.output,
    /Step 'UseTampered': failed - The init container 'packages' failed with exit code 1: [\s\S]*error \[INTERNAL\]: Package 'tampered' \(tampered 1\.0\.0\) could not be downloaded from \S+: The stored file of package tampered 1\.0\.0 no longer matches what was pushed/,
  );
  assert.doesNotMatch(res.output, /the script ran/);
});

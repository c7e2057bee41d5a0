// scriptPods.worker.image in both forms: our "repository:tag" and Octopus's chart's
// {repository, tag, pullPolicy}, so values copied from its docs work. Checked where it matters:
// the script container of a pod the worker builds from the ConfigMap `helm template` renders.
// Run: node --conditions=source --import tsx --test test/chart/scriptImage.test.ts
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LONGSHORE_VERSION, type Operation } from '@longshore/protocol';
import { buildScriptPod, parseScriptPodsConfig, stageWorkspace } from '@longshore/worker';
import { parse as parseYaml } from 'yaml';
import { CHART, NAMESPACE, RELEASE, noHelm, runHelm } from './helmChart.js';

const REQUIRED = ['--set', 'server.url=https://longshore.example.com', '--set', 'registration.token=t0ken'];

/** The script container of a pod built from what `helm template` renders with these arguments. */
async function scriptContainer(args: string[]): Promise<{ image?: string; imagePullPolicy?: string }> {
  const r = await runHelm([
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NAMESPACE,
    ...REQUIRED,
    ...args,
    '--show-only',
    'templates/configmap.yaml',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /warning/, 'helm merges either form over the default without a warning');
  const settings = parseYaml(
    (parseYaml(r.stdout) as { data: Record<string, string> }).data['script-pods.yaml']!,
  ) as object;
  const config = parseScriptPodsConfig({ ...settings, namespace: NAMESPACE, workerName: 'w' });
  const operation: Operation = {
    id: randomUUID(),
    taskId: 't',
    step: { index: 0, name: 'Deploy' },
    script: { syntax: 'sh', body: 'true' },
    variables: [],
    packages: [],
    timeoutSeconds: 60,
  };
  const { pod } = buildScriptPod({
    config,
    operation,
    secretName: 'ws',
    workspace: stageWorkspace(operation, { workerName: 'w', serverUrl: 'https://longshore.example.com' }),
    server: { url: 'https://longshore.example.com' },
    packageAccess: { token: 'p' },
  }) as unknown as { pod: { spec: { containers: { image?: string; imagePullPolicy?: string }[] } } };
  const { image, imagePullPolicy } = pod.spec.containers[0]!;
  return { image, ...(imagePullPolicy ? { imagePullPolicy } : {}) };
}

describe('scriptPods.worker.image', { skip: noHelm }, () => {
  test("Octopus's object form from a values file: repository:tag, and its pullPolicy on the script container", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'chart-values-')), 'octopus.yaml');
    writeFileSync(
      file,
      'scriptPods:\n  worker:\n    image:\n      repository: octopusdeploy/worker-tools\n      tag: ubuntu.24.04\n      pullPolicy: Always\n',
    );
    assert.deepEqual(await scriptContainer(['-f', file]), {
      image: 'octopusdeploy/worker-tools:ubuntu.24.04',
      imagePullPolicy: 'Always',
    });
  });

  test("the object form from --set: a missing tag is the worker image's, a missing repository ours", async () => {
    assert.deepEqual(
      await scriptContainer(['--set', 'scriptPods.worker.image.repository=registry.example.com:5000/tools']),
      { image: `registry.example.com:5000/tools:${LONGSHORE_VERSION}` },
    );
    assert.deepEqual(
      await scriptContainer(['--set', 'scriptPods.worker.image.tag=1.2.3', '--set', 'image.tag=9.9.9']),
      { image: 'longshore/worker-tools:1.2.3' },
    );
    assert.deepEqual(
      await scriptContainer(['--set', 'scriptPods.worker.image.repository=mirror/tools', '--set', 'image.tag=9.9.9']),
      { image: 'mirror/tools:9.9.9' },
    );
  });

  test('the string form and the default are as before', async () => {
    assert.deepEqual(await scriptContainer([]), { image: `longshore/worker-tools:${LONGSHORE_VERSION}` });
    assert.deepEqual(
      await scriptContainer([
        '--set',
        'scriptPods.worker.image=mirror/tools:7',
        '--set',
        'scriptPods.worker.imagePullPolicy=Never',
      ]),
      { image: 'mirror/tools:7', imagePullPolicy: 'Never' },
    );
  });

  test('refused with a message naming the value: an unknown key, a bad tag, two pull policies that differ', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--set', 'scriptPods.worker.image.repo=x'],
        /scriptPods\.worker\.image: Additional property repo is not allowed/,
      ],
      [['--set', 'scriptPods.worker.image.tag=a:b'], /scriptPods\.worker\.image\.tag: Does not match pattern/],
      [['--set', 'scriptPods.worker.image.pullPolicy=Sometimes'], /scriptPods\.worker\.image\.pullPolicy/],
      [
        ['--set', 'scriptPods.worker.image.pullPolicy=Always', '--set', 'scriptPods.worker.imagePullPolicy=Never'],
        /scriptPods\.worker\.image\.pullPolicy \(Always\) and scriptPods\.worker\.imagePullPolicy \(Never\) differ: set one/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await runHelm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...REQUIRED, ...args]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Operation } from '@longshore/protocol';
import { testOperation } from '../../testing/operation.fixture.js';
import { stageWorkspace } from '../../workspace.js';
import { isDnsLabel, isLabelValue, scriptPodNames } from './kubeNames.js';
import { buildScriptPod, isScriptPodRejection, scriptPodResources, type ScriptPodInput } from './scriptPodSpec.js';
import { parseScriptPodsConfig, type ScriptPodsConfig } from './scriptPodsConfig.js';

const config = parseScriptPodsConfig({
  namespace: 'longshore',
  workerName: 'k8s-1',
  resources: {
    requests: { cpu: '250m', memory: '256Mi' },
    limits: { memory: '1Gi' },
    maxAllowed: { cpu: '4', memory: '8Gi' },
  },
});

const pkg = {
  reference: 'app',
  packageId: 'web',
  version: '1.2.3',
  format: 'tar.gz' as const,
  sha256: 'ab'.repeat(32),
  downloadPath: '/api/agent/packages/web/1.2.3/content',
};

function input(
  operation: Operation,
  overrides: Partial<ScriptPodInput> = {},
  cfg: ScriptPodsConfig = config,
): ScriptPodInput {
  return {
    config: cfg,
    operation,
    workspace: stageWorkspace(operation, { workerName: 'k8s-1', serverUrl: 'https://longshore.example' }),
    secretName: scriptPodNames(operation.id).secret,
    server: { url: 'https://longshore.example' },
    packageAccess: operation.packages.length ? { token: 'pkg-token-0123456789' } : undefined,
    ...overrides,
  };
}

function rejection(fn: () => unknown): { message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    assert.ok(isScriptPodRejection(error), String(error));
    return error as { message: string; details: Record<string, unknown> };
  }
  assert.fail('expected a rejection');
}

describe('buildScriptPod', () => {
  test('one pod per operation: name, labels, annotation, restart policy, deadline, command', () => {
    const op = testOperation({
      taskId: 'ServerTasks-42',
      step: { index: 2, name: 'Deploy web app (blue/green)' },
      timeoutSeconds: 600,
    });
    const { pod, secret } = buildScriptPod(input(op));
    assert.equal(pod.metadata?.name, `longshore-${op.id}`);
    assert.ok(isDnsLabel(pod.metadata!.name!));
    assert.equal(pod.metadata?.namespace, 'longshore');
    const labels = pod.metadata!.labels!;
    assert.equal(labels['longshore.io/worker'], 'k8s-1');
    assert.equal(labels['longshore.io/operation'], op.id);
    assert.equal(labels['longshore.io/task'], 'ServerTasks-42');
    for (const value of Object.values(labels)) assert.ok(isLabelValue(value), value);
    assert.match(labels['longshore.io/step']!, /^2-Deploy_web_app_blue_green/);
    assert.equal(pod.metadata?.annotations?.['cluster-autoscaler.kubernetes.io/safe-to-evict'], 'false');
    assert.equal(pod.metadata?.annotations?.['longshore.io/step-name'], 'Deploy web app (blue/green)');
    const spec = pod.spec!;
    assert.equal(spec.restartPolicy, 'Never');
    assert.ok(spec.activeDeadlineSeconds! > 600);
    assert.equal(spec.containers.length, 1);
    const script = spec.containers[0]!;
    assert.deepEqual(script.command, ['sh', '/longshore/workspace/bootstrap.sh', 'sh', '/longshore/work']);
    assert.equal(script.image, config.worker.image);
    assert.deepEqual(script.resources, { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } });
    assert.deepEqual(script.volumeMounts, [
      { name: 'workspace', mountPath: '/longshore/workspace', readOnly: true },
      { name: 'work', mountPath: '/longshore/work' },
    ]);
    assert.equal(spec.volumes?.[0]?.secret?.secretName, secret.metadata?.name);
    assert.deepEqual(spec.volumes?.[1], { name: 'work', emptyDir: {} });
    assert.equal(spec.initContainers, undefined, 'no packages, no init container');
    assert.equal(secret.immutable, true);
    assert.deepEqual(secret.metadata?.labels, labels);
    assert.equal(Buffer.from(secret.data!['script']!, 'base64').toString(), 'echo hello');
  });

  test('a long or odd operation id still gives a DNS-1123 name of at most 63 characters', () => {
    const { pod } = buildScriptPod(input(testOperation({ id: `${'X_'.repeat(40)}end` })));
    assert.ok(isDnsLabel(pod.metadata!.name!), pod.metadata!.name);
  });

  test('the execution container image wins over the default image', () => {
    const { pod } = buildScriptPod(input(testOperation({ container: { image: 'registry.example/tools:7' } })));
    assert.equal(pod.spec!.containers[0]!.image, 'registry.example/tools:7');
  });

  test('scheduling and security values come from the configuration', () => {
    const cfg = parseScriptPodsConfig({
      namespace: 'ns',
      workerName: 'w',
      nodeSelector: { pool: 'scripts' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'scripts', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: {} },
      labels: { team: 'platform' },
      annotations: { 'example.com/owner': 'ops' },
      imagePullSecrets: ['regcred'],
      serviceAccountName: 'longshore-scripts',
      podSecurityContext: { runAsNonRoot: true, fsGroup: 1000 },
      containerSecurityContext: { allowPrivilegeEscalation: false },
    });
    const { pod } = buildScriptPod(input(testOperation(), {}, cfg));
    const spec = pod.spec!;
    assert.deepEqual(spec.nodeSelector, { pool: 'scripts' });
    assert.equal(spec.tolerations?.[0]?.key, 'dedicated');
    assert.deepEqual(spec.affinity, { nodeAffinity: {} });
    assert.deepEqual(spec.imagePullSecrets, [{ name: 'regcred' }]);
    assert.equal(spec.serviceAccountName, 'longshore-scripts');
    assert.deepEqual(spec.securityContext, { runAsNonRoot: true, fsGroup: 1000 });
    assert.deepEqual(spec.containers[0]!.securityContext, { allowPrivilegeEscalation: false });
    assert.equal(pod.metadata?.labels?.team, 'platform');
    assert.equal(pod.metadata?.annotations?.['example.com/owner'], 'ops');
  });

  test("the worker's upgrade runs under the upgrader, whatever the patch says; without one it is rejected", () => {
    const cfg = parseScriptPodsConfig({
      namespace: 'ns',
      workerName: 'w',
      serviceAccountName: 'longshore-scripts',
      upgraderServiceAccountName: 'longshore-upgrader',
      podSpecPatch: { serviceAccountName: 'someone-else' },
    });
    const upgrade = testOperation({ purpose: 'worker-upgrade' });
    assert.equal(buildScriptPod(input(upgrade, {}, cfg)).pod.spec!.serviceAccountName, 'longshore-upgrader');
    assert.equal(buildScriptPod(input(testOperation(), {}, cfg)).pod.spec!.serviceAccountName, 'someone-else');
    const { message, details } = rejection(() => buildScriptPod(input(upgrade)));
    assert.equal(details.rejection, 'no-upgrader');
    assert.match(message, /no upgrader ServiceAccount .*upgrade it with helm upgrade/);
  });

  test('podSpecPatch is applied last, merging containers by name, but cannot make the pod restart', () => {
    const cfg = parseScriptPodsConfig({
      namespace: 'ns',
      workerName: 'w',
      podSpecPatch: {
        restartPolicy: 'Always',
        priorityClassName: 'batch',
        containers: [{ name: 'script', env: [{ name: 'HTTP_PROXY', value: 'http://proxy:3128' }] }],
      },
    });
    const { pod } = buildScriptPod(input(testOperation(), {}, cfg));
    assert.equal(pod.spec!.restartPolicy, 'Never');
    assert.equal((pod.spec as { priorityClassName?: string }).priorityClassName, 'batch');
    assert.equal(pod.spec!.containers.length, 1);
    assert.deepEqual(pod.spec!.containers[0]!.env, [{ name: 'HTTP_PROXY', value: 'http://proxy:3128' }]);
    assert.equal(pod.spec!.containers[0]!.command?.[0], 'sh');
  });

  test('packages: an init container fetches them with the credential from the Secret, which the script container does not mount', () => {
    const op = testOperation({ packages: [pkg] });
    const { pod, secret } = buildScriptPod(
      input(op, { server: { url: 'https://longshore.example', caPem: '-----BEGIN CERTIFICATE-----x' } }),
    );
    const init = pod.spec!.initContainers?.[0];
    assert.equal(init?.name, 'packages');
    assert.equal(init?.image, config.packageFetcher.image);
    assert.deepEqual(init?.command, [
      'longshore',
      'fetch-packages',
      '--manifest',
      '/longshore/fetch/fetch-manifest.json',
      '--token-file',
      '/longshore/fetch/fetch-token',
      '--into',
      '/longshore/work',
      '--ca-file',
      '/longshore/fetch/fetch-server-ca.pem',
    ]);
    assert.equal(
      init?.terminationMessagePolicy,
      'FallbackToLogsOnError',
      "the fetcher's error reaches the operation's outcome",
    );
    assert.ok(
      !buildScriptPod(input(op)).pod.spec!.initContainers![0]!.command!.includes('--ca-file'),
      'no CA, no --ca-file',
    );
    const fetchVolume = pod.spec!.volumes!.find((v) => v.name === 'fetch');
    assert.deepEqual(
      fetchVolume?.secret?.items?.map((i) => i.key),
      ['fetch-manifest.json', 'fetch-token', 'fetch-server-ca.pem'],
    );
    const workspaceVolume = pod.spec!.volumes!.find((v) => v.name === 'workspace');
    assert.ok(
      !workspaceVolume?.secret?.items?.some((i) => i.key.startsWith('fetch-')),
      'the script cannot read the package token',
    );
    assert.equal(Buffer.from(secret.data!['fetch-token']!, 'base64').toString(), 'pkg-token-0123456789');
    const manifest = JSON.parse(Buffer.from(secret.data!['fetch-manifest.json']!, 'base64').toString()) as {
      serverUrl: string;
      packages: unknown[];
    };
    assert.equal(manifest.serverUrl, 'https://longshore.example');
    assert.equal(manifest.packages.length, 1);
  });

  test('no sensitive value anywhere in the pod spec', () => {
    const secrets = ['hunter2-s3cret', 'multi\nline-secret-value', 'pkg-token-0123456789', 'target-token-abcdef'];
    const op = testOperation({
      variables: [
        { name: 'Password', value: secrets[0]!, sensitive: true },
        { name: 'Cert', value: secrets[1]!, sensitive: true },
        { name: 'Plain', value: 'visible', sensitive: false },
      ],
      target: {
        id: 't',
        name: 'k8s',
        type: 'kubernetes-cluster',
        kubernetes: { apiUrl: 'https://k8s', namespace: 'app', token: secrets[3]! },
      },
      packages: [pkg],
    });
    const { pod, secret } = buildScriptPod(input(op));
    const serialized = JSON.stringify(pod);
    for (const value of secrets) {
      for (const part of value.split('\n')) {
        assert.ok(!serialized.includes(part), `pod spec contains '${part}'`);
        assert.ok(!serialized.includes(Buffer.from(part).toString('base64')), `pod spec contains base64 of '${part}'`);
      }
    }
    const inSecret = Object.values(secret.data!)
      .map((d) => Buffer.from(d, 'base64').toString())
      .join('\n');
    for (const value of secrets) assert.ok(inSecret.includes(value.split('\n')[0]!), 'the Secret carries them instead');
  });

  test('Docker needs are rejected with what to do instead', () => {
    const inline = rejection(() => buildScriptPod(input(testOperation({ container: { dockerfile: 'FROM alpine' } }))));
    assert.equal(inline.details.rejection, 'needs-docker');
    assert.match(inline.message, /no Docker/);
    assert.match(inline.message, /push it to a registry and set it as the execution container image/);
    const image = rejection(() =>
      buildScriptPod(input(testOperation({ packages: [{ ...pkg, format: 'docker-image' }] }))),
    );
    assert.match(image.message, /Use the image as the execution container/);
  });

  test('a workspace too big for a Secret is rejected', () => {
    const big = rejection(() =>
      buildScriptPod(input(testOperation({ script: { syntax: 'sh', body: 'x'.repeat(1024 * 1024) } }))),
    );
    assert.equal(big.details.rejection, 'workspace-too-large');
  });
});

describe('scriptPodResources', () => {
  const table: [string, Operation['resources'], unknown][] = [
    [
      'no step resources: the defaults',
      undefined,
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    ],
    [
      'the step request replaces the default per resource',
      { requests: { cpu: '2' } },
      { requests: { cpu: '2', memory: '256Mi' }, limits: { memory: '1Gi' } },
    ],
    [
      'a request above the default limit raises the limit to it',
      { requests: { memory: '2Gi' } },
      { requests: { cpu: '250m', memory: '2Gi' }, limits: { memory: '2Gi' } },
    ],
    [
      'a limit above the cap is lowered to the cap',
      { limits: { memory: '64Gi', cpu: '1' } },
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '8Gi' } },
    ],
    [
      'a request equal to the cap is fine',
      { requests: { cpu: '4000m' } },
      { requests: { cpu: '4000m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    ],
  ];
  for (const [name, resources, expected] of table) {
    test(name, () =>
      assert.deepEqual(scriptPodResources(config, testOperation(resources ? { resources } : {})), expected),
    );
  }

  test('a request over maxAllowed is a rejection naming the cap', () => {
    const over = rejection(() =>
      scriptPodResources(config, testOperation({ resources: { requests: { memory: '16Gi' } } })),
    );
    assert.equal(over.details.rejection, 'resources-over-cap');
    assert.match(
      over.message,
      /memory 16Gi, more than this worker allows \(scriptPods\.resources\.maxAllowed\.memory = 8Gi\)/,
    );
  });

  test("the server's recommendation (auto) over maxAllowed is held to the cap, not refused", () => {
    const operation = testOperation({
      resources: { requests: { cpu: '250m', memory: '16Gi' } },
      resourcesAuto: true,
    });
    assert.deepEqual(scriptPodResources(config, operation), {
      requests: { cpu: '250m', memory: '8Gi' },
      limits: { memory: '8Gi' },
    });
  });
});

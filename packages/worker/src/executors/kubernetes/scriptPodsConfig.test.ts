import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LONGSHORE_VERSION, isErrorCode } from '@longshore/protocol';
import { parseScriptPodsConfig } from './scriptPodsConfig.js';

const minimal = { namespace: 'longshore', workerName: 'k8s-1' };

function problemsOf(input: unknown): string[] {
  try {
    parseScriptPodsConfig(input);
  } catch (error) {
    assert.ok(isErrorCode(error, 'CONFIG_INVALID'));
    return (error as { details: { problems: string[] } }).details.problems;
  }
  assert.fail('expected CONFIG_INVALID');
}

describe('parseScriptPodsConfig', () => {
  test('fills in defaults', () => {
    const config = parseScriptPodsConfig(minimal);
    assert.equal(config.worker.image, `longshore/worker-tools:${LONGSHORE_VERSION}`);
    assert.equal(config.packageFetcher.image, `longshore/worker:${LONGSHORE_VERSION}`);
    assert.equal(config.pendingTimeoutMs, 15 * 60_000);
    assert.equal(config.maxConcurrentOperations, 50);
    assert.deepEqual(config.resources.requests, { cpu: '250m', memory: '256Mi' });
    assert.ok(config.resources.maxAllowed?.cpu);
  });

  test('converts numbers given as strings (environment variables)', () => {
    const config = parseScriptPodsConfig({ ...minimal, pendingTimeoutMs: '60000', maxPendingPods: '5' });
    assert.equal(config.pendingTimeoutMs, 60000);
    assert.equal(config.maxPendingPods, 5);
  });

  test('keeps scheduling and security values as given', () => {
    const input = {
      ...minimal,
      nodeSelector: { pool: 'scripts' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'scripts', effect: 'NoSchedule' }],
      podSecurityContext: { runAsNonRoot: true, fsGroup: 1000 },
      podSpecPatch: { priorityClassName: 'batch' },
    };
    const config = parseScriptPodsConfig(input);
    assert.deepEqual(config.tolerations, input.tolerations);
    assert.deepEqual(config.podSpecPatch, { priorityClassName: 'batch' });
  });

  const table: [string, unknown, RegExp][] = [
    ['missing namespace', { workerName: 'w' }, /^\/namespace: /],
    ['namespace not a DNS label', { ...minimal, namespace: 'Longshore_NS' }, /^\/namespace: /],
    ['unknown field', { ...minimal, pendingTimeout: 5 }, /pendingTimeout/],
    [
      'bad quantity',
      { ...minimal, resources: { requests: { cpu: 'lots' } } },
      /^\/resources\/requests\/cpu: 'lots' is not a Kubernetes quantity/,
    ],
    [
      'request above limit',
      { ...minimal, resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } },
      /^\/resources\/requests\/cpu: 2 is more than \/resources\/limits\/cpu \(1\); Kubernetes rejects a pod whose request exceeds its limit/,
    ],
    [
      'limit above maxAllowed',
      { ...minimal, resources: { requests: {}, limits: { memory: '16Gi' }, maxAllowed: { memory: '8Gi' } } },
      /^\/resources\/limits\/memory: 16Gi is more than \/resources\/maxAllowed\/memory \(8Gi\); the default would break the cap/,
    ],
    [
      'request above maxAllowed (units differ)',
      { ...minimal, resources: { requests: { memory: '9000Mi' }, limits: {}, maxAllowed: { memory: '8Gi' } } },
      /^\/resources\/requests\/memory: 9000Mi is more than \/resources\/maxAllowed\/memory/,
    ],
    [
      'maxPendingPods above maxConcurrentOperations',
      { ...minimal, maxConcurrentOperations: 5, maxPendingPods: 10 },
      /^\/maxPendingPods: 10 is more than/,
    ],
  ];
  for (const [name, input, expected] of table) {
    test(`rejects: ${name}`, () => {
      const problems = problemsOf(input);
      assert.ok(
        problems.some((p) => expected.test(p)),
        problems.join('\n'),
      );
    });
  }

  test('equal request, limit and cap are fine', () => {
    const config = parseScriptPodsConfig({
      ...minimal,
      resources: { requests: { cpu: '1' }, limits: { cpu: '1000m' }, maxAllowed: { cpu: '1' } },
    });
    assert.equal(config.resources.limits?.cpu, '1000m');
  });
});

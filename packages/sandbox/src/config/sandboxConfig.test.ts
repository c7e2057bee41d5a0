import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isErrorCode, type LongshoreError } from '@longshore/protocol';
import { DEFAULT_CONFIG, parseSandboxConfig } from './sandboxConfig.js';

function problemsOf(input: unknown): string[] {
  try {
    parseSandboxConfig(input);
  } catch (error) {
    assert.ok(isErrorCode(error, 'CONFIG_INVALID'), String(error));
    return (error as LongshoreError).details!.problems as string[];
  }
  assert.fail('expected CONFIG_INVALID');
}

test('sandbox config: empty input is the defaults', () => {
  assert.deepEqual(parseSandboxConfig(undefined), DEFAULT_CONFIG);
  assert.deepEqual(parseSandboxConfig(null), DEFAULT_CONFIG);
  assert.equal(DEFAULT_CONFIG.host, '127.0.0.1');
  assert.equal(DEFAULT_CONFIG.controllers.endpoints, true);
  assert.equal(parseSandboxConfig({ controllers: { endpoints: false } }).controllers.deployments, true);
  assert.equal(
    parseSandboxConfig({ cluster: { nodeGroups: [{ name: 'big', min: 3 }] } }).cluster.nodeGroups[0]!.max,
    3,
  );
});

test('sandbox config: every problem of the file at once, each with its path, secrets withheld', () => {
  const problems = problemsOf({
    port: 70000,
    adminToken: 'short-secret',
    tokens: [{ token: 'tiny', user: 'ci' }, { user: 'nobody' }],
    controllers: { replicaSet: true },
    cluster: { cgroups: 'maybe', nodeGroups: [{ cpu: '2' }] },
  });
  assert.deepEqual(problems, [
    'port must be an integer from 0 to 65535, got 70000',
    'adminToken must be at least 16 characters (it grants everything), got "<redacted>"',
    'tokens[0].token must be a string of at least 8 characters, got "<redacted>"',
    'tokens[1].token is missing: it must be a string of at least 8 characters',
    'unknown key controllers.replicaSet (known: deployments, replicaSets, replicationControllers, daemonSets, podGarbageCollector, apiServiceAvailability, serviceAccounts, garbageCollector, namespaces, rootCaPublisher, endpoints, jobs, cronJobs, jobPodBackoffMs)',
    'cluster.nodeGroups[0].name is missing: it must be a DNS label of at most 42 characters',
    'cluster.cgroups must be true or false, got "maybe"',
  ]);
  assert.equal(problems.join().includes('short-secret') || problems.join().includes('tiny'), false);
});

test('sandbox config: what the schema cannot say is checked once it holds', () => {
  assert.deepEqual(
    problemsOf({
      cluster: {
        nodeGroups: [
          { name: 'a', cpu: '0', min: 3, max: 1 },
          { name: 'a', memory: 0 },
        ],
      },
    }),
    [
      'cluster.nodeGroups[0].cpu must be a positive quantity such as "2", "500m" or "4Gi", got "0"',
      'cluster.nodeGroups[0].max must be at least min (3); otherwise the group could never reach its minimum, got 1',
      'cluster.nodeGroups[1].memory must be a positive quantity such as "2", "500m" or "4Gi", got "0"',
      'cluster.nodeGroups must be groups with distinct names, got "a"',
    ],
  );
  assert.match(problemsOf('port: 1')[0]!, /^\(root\) must be a mapping, got "port: 1"$/);
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { BOOTSTRAP_SCRIPT } from './bootstrap/bootstrapScript.js';
import { testOperation } from './testing/operation.fixture.js';
import { operationSecrets, stageWorkspace } from './workspace.js';

const context = { workerName: 'worker-1', serverUrl: 'https://longshore.test' };

/** Prints a variable through the generated files, as a script's get_longshore_variable does. */
function lookUp(files: Record<string, string>, name: string): { status: number | null; stdout: string } {
  const result = spawnSync(
    'sh',
    [
      '-c',
      `${files['variables.sh']}\n${files['sensitive.sh']}\n__longshore_sensitive_variable "$1" || __longshore_variable "$1"`,
      'sh',
      name,
    ],
    { encoding: 'utf8' },
  );
  return { status: result.status, stdout: result.stdout };
}

describe('stageWorkspace', () => {
  const cases: { title: string; value: string }[] = [
    { title: 'a single quote', value: "it's" },
    { title: 'double quotes', value: 'say "hi"' },
    { title: 'newlines', value: 'one\ntwo\n\nthree\n' },
    { title: 'CRLF', value: 'one\r\ntwo' },
    { title: 'dollar expansions', value: '$HOME ${PATH} $(whoami) $((1+1))' },
    { title: 'backticks', value: '`id`' },
    { title: 'unicode', value: 'ünïcödé ✓ 日本語 🚀' },
    { title: 'backslashes', value: 'C:\\path\\n' },
    { title: 'glob characters', value: '* ? [a-z]' },
    { title: 'a case pattern terminator', value: 'x) ;; esac; echo pwned; case y in y)' },
    { title: 'an empty string', value: '' },
  ];

  for (const { title, value } of cases) {
    for (const sensitive of [false, true]) {
      it(`carries a ${sensitive ? 'sensitive' : 'plain'} value with ${title} exactly`, () => {
        const name = `Var ${title} [x]*`;
        const files = stageWorkspace(testOperation({ variables: [{ name, value, sensitive }] }), context);
        assert.deepEqual(lookUp(files, name), { status: 0, stdout: `${value}\n` });
        assert.equal(files[sensitive ? 'variables.sh' : 'sensitive.sh']!.includes(name), false);
      });
    }
  }

  it('uses valid Secret keys only', () => {
    const operation = testOperation({
      target: {
        id: 't',
        name: 'c',
        type: 'kubernetes-cluster',
        kubernetes: { apiUrl: 'https://k', namespace: 'n', token: 't' },
      },
    });
    for (const key of Object.keys(stageWorkspace(operation, context))) assert.match(key, /^[-._a-zA-Z0-9]+$/);
  });

  it('holds the bootstrap, the script and the system variables', () => {
    const files = stageWorkspace(testOperation({ script: { syntax: 'bash', body: 'echo "$x"' } }), context);
    assert.equal(files['bootstrap.sh'], BOOTSTRAP_SCRIPT);
    assert.equal(files.script, 'echo "$x"');
    assert.deepEqual(lookUp(files, 'Longshore.Worker.Name').stdout, 'worker-1\n');
    assert.deepEqual(lookUp(files, 'Longshore.Server.Url').stdout, 'https://longshore.test\n');
    assert.equal(lookUp(files, 'Unknown').status, 1);
    assert.equal(files.kubeconfig, undefined);
  });

  it('lets the last definition of a name win, and the worker’s own facts win over the step’s', () => {
    const files = stageWorkspace(
      testOperation({
        variables: [
          { name: 'A', value: 'first', sensitive: true },
          { name: 'A', value: 'second', sensitive: false },
          { name: 'Longshore.Worker.Name', value: 'spoofed', sensitive: false },
        ],
      }),
      context,
    );
    assert.equal(lookUp(files, 'A').stdout, 'second\n');
    assert.equal(lookUp(files, 'Longshore.Worker.Name').stdout, 'worker-1\n');
  });

  it('lists every line of every secret once in masks, and no plain value', () => {
    const operation = testOperation({
      variables: [
        { name: 'Key', value: '-----BEGIN KEY-----\r\nabc\ndef\n', sensitive: true },
        { name: 'Again', value: 'abc', sensitive: true },
        { name: 'Plain', value: 'public', sensitive: false },
      ],
    });
    assert.equal(stageWorkspace(operation, context).masks, '-----BEGIN KEY-----\nabc\ndef\n');
  });

  it('writes a kubeconfig for a Kubernetes target and masks its token', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const operation = testOperation({
      target: {
        id: 't1',
        name: 'prod',
        type: 'kubernetes-cluster',
        kubernetes: { apiUrl: 'https://10.0.0.1:6443', namespace: 'apps', token: 'tok.en', caCertificate: pem },
      },
    });
    const files = stageWorkspace(operation, context);
    const config = JSON.parse(files.kubeconfig!) as Record<string, any>;
    assert.equal(config['current-context'], 'target');
    assert.deepEqual(config.clusters[0].cluster, {
      server: 'https://10.0.0.1:6443',
      'certificate-authority-data': Buffer.from(pem).toString('base64'),
    });
    assert.deepEqual(config.users[0].user, { token: 'tok.en' });
    assert.deepEqual(config.contexts[0].context, { cluster: 'target', user: 'target', namespace: 'apps' });
    assert.equal(files.masks, 'tok.en\n');
    assert.deepEqual(operationSecrets(operation), ['tok.en']);
  });

  it('accepts a base64 CA and skipping TLS verification', () => {
    const operation = testOperation({
      target: {
        id: 't1',
        name: 'dev',
        type: 'kubernetes-cluster',
        kubernetes: {
          apiUrl: 'https://k',
          namespace: 'n',
          token: 't',
          caCertificate: 'TUlJQg==\n',
          skipTlsVerify: true,
        },
      },
    });
    const cluster = (JSON.parse(stageWorkspace(operation, context).kubeconfig!) as Record<string, any>).clusters[0]
      .cluster;
    assert.deepEqual(cluster, {
      server: 'https://k',
      'certificate-authority-data': 'TUlJQg==',
      'insecure-skip-tls-verify': true,
    });
  });

  it('writes no kubeconfig for a generic target', () => {
    const files = stageWorkspace(testOperation({ target: { id: 't', name: 'box', type: 'generic' } }), context);
    assert.equal(files.kubeconfig, undefined);
  });
});

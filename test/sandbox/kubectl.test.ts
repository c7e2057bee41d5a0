// The sandbox driven by an unmodified kubectl 1.32: apply (create, then the patch path),
// get -o yaml, get -w, label, delete, auth can-i, create token, and a Deployment that the
// controllers turn into a ReplicaSet and Pods.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { clientsMissing, eventually, sandboxForSuite, succeeded } from './support.js';

describe('kubectl against the sandbox', { skip: clientsMissing() }, () => {
  const suite = sandboxForSuite();

  const ok = (args: string[], input?: string): Promise<string> =>
    succeeded(suite.env.kubectl(args, input === undefined ? {} : { input }), `kubectl ${args.join(' ')}`);

  test('apply twice (create, then a three-way patch), get -o yaml, label, delete', async () => {
    await ok(['create', 'namespace', 'k1']);
    const manifest = (v: string): string =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: k1\n  labels: {tier: web}\ndata:\n  mode: "${v}"\n`;
    const file = join(suite.env.dir, 'cm.yaml');
    writeFileSync(file, manifest('one'));
    assert.match(await ok(['apply', '-f', file]), /configmap\/app created/);
    const before = suite.sb.audit.lastSeq;
    writeFileSync(file, manifest('two'));
    assert.match(await ok(['apply', '-f', file]), /configmap\/app configured/);
    assert.ok(
      suite.sb.audit
        .entries({ afterSeq: before, verb: 'patch', resource: 'configmaps', name: 'app' })
        .some((e) => e.code === 200),
      'the second apply PATCHed',
    );
    const cm = parseYaml(await ok(['get', 'configmap', 'app', '-n', 'k1', '-o', 'yaml'])) as {
      data: Record<string, string>;
      metadata: { annotations: Record<string, string> };
    };
    assert.equal(cm.data.mode, 'two');
    assert.match(cm.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']!, /"mode":"two"/);
    await ok(['label', 'configmap', 'app', '-n', 'k1', 'release=blue']);
    assert.match(await ok(['get', 'cm', '-n', 'k1', '-l', 'release=blue', '-o', 'name']), /configmap\/app/);
    assert.match(await ok(['delete', 'configmap', 'app', '-n', 'k1']), /configmap "app" deleted/);
    const missing = await suite.env.kubectl(['get', 'configmap', 'app', '-n', 'k1']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Error from server \(NotFound\): configmaps "app" not found/);
  });

  test('get -w streams changes as table rows', async () => {
    await ok(['create', 'namespace', 'k2']);
    await ok(['create', 'configmap', 'first', '-n', 'k2', '--from-literal=a=1']);
    const watcher = suite.env.kubectl(['get', 'configmaps', '-n', 'k2', '-w', '--request-timeout=3s'], {
      timeoutMs: 8_000,
    });
    await new Promise((r) => setTimeout(r, 700));
    await ok(['create', 'configmap', 'second', '-n', 'k2', '--from-literal=b=2']);
    const r = await watcher;
    assert.match(r.stdout, /NAME\s+DATA\s+AGE/);
    assert.match(r.stdout, /^first\s+1\s+/m);
    assert.match(r.stdout, /^second\s+1\s+/m);
  });

  test('auth can-i and create token: a ServiceAccount bound in k3 may list pods there and nowhere else', async () => {
    await ok(['create', 'namespace', 'k3']);
    await ok(['create', 'namespace', 'k4']);
    await ok(['create', 'serviceaccount', 'runner', '-n', 'k3']);
    await ok(['create', 'role', 'pod-reader', '-n', 'k3', '--verb=get,list', '--resource=pods']);
    await ok(['create', 'rolebinding', 'runner-reads', '-n', 'k3', '--role=pod-reader', '--serviceaccount=k3:runner']);
    const as = ['--as=system:serviceaccount:k3:runner'];
    assert.equal((await ok(['auth', 'can-i', 'list', 'pods', '-n', 'k3', ...as])).trim(), 'yes');
    const no = await suite.env.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'k4', ...as]);
    assert.equal(no.stdout.trim(), 'no');
    const token = (await ok(['create', 'token', 'runner', '-n', 'k3', '--duration=1h'])).trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const withToken = ['--token', token];
    const kc = join(suite.env.dir, 'token.kubeconfig');
    writeFileSync(kc, suite.sb.kubeconfig.replace(/token: .*/, `token: ${token}`));
    const denied = await suite.env.kubectl(['--kubeconfig', kc, 'get', 'pods', '-n', 'k4']);
    assert.match(
      denied.stderr,
      /pods is forbidden: User "system:serviceaccount:k3:runner" cannot list resource "pods" in API group "" in the namespace "k4"/,
    );
    assert.equal((await suite.env.kubectl(['--kubeconfig', kc, 'get', 'pods', '-n', 'k3'])).code, 0);
    void withToken;
  });

  test('a Deployment becomes a ReplicaSet and Pods; a template change rolls a new ReplicaSet', async () => {
    await ok(['create', 'namespace', 'k5']);
    const file = join(suite.env.dir, 'deploy.yaml');
    const deploy = (image: string): string =>
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: web, namespace: k5}',
        'spec:',
        '  replicas: 2',
        '  selector: {matchLabels: {app: web}}',
        '  template:',
        '    metadata: {labels: {app: web}}',
        '    spec:',
        '      containers:',
        `      - {name: app, image: "${image}"}`,
        '',
      ].join('\n');
    writeFileSync(file, deploy('nginx:1.27'));
    await ok(['apply', '-f', file]);
    await eventually(
      '2 pods',
      async () =>
        (await ok(['get', 'pods', '-n', 'k5', '-l', 'app=web', '-o', 'name'])).trim().split('\n').filter(Boolean)
          .length === 2,
    );
    writeFileSync(file, deploy('nginx:1.28'));
    await ok(['apply', '-f', file]);
    const sets = await eventually('a second replica set', async () => {
      const names = (await ok(['get', 'rs', '-n', 'k5', '-o', 'name'])).trim().split('\n').filter(Boolean);
      return names.length === 2 ? names : undefined;
    });
    assert.equal(sets.length, 2);
    const d = JSON.parse(await ok(['get', 'deployment', 'web', '-n', 'k5', '-o', 'json'])) as {
      metadata: { annotations: Record<string, string> };
      status: { observedGeneration: number };
    };
    await eventually(
      'revision 2',
      async () =>
        JSON.parse(await ok(['get', 'deployment', 'web', '-n', 'k5', '-o', 'json'])).metadata.annotations[
          'deployment.kubernetes.io/revision'
        ] === '2',
    );
    assert.ok(d.status.observedGeneration >= 1);
    assert.match(await ok(['get', 'events', '-n', 'k5']), /ScalingReplicaSet/);
  });
});

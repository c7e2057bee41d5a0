// What kubectl sends in forms other than a JSON body, and what the sandbox must make of it:
// `kubectl create deployment` posts protobuf (kubectl has no JSON fallback on a 415), and
// `kubectl apply --server-side` an apply patch whose fields land in managedFields. The same is
// compared with kube-apiserver in test/control-plane/differential/stepsClients.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientsMissing, eventually, sandboxForSuite, succeeded } from './support.js';

describe('kubectl create deployment and apply --server-side', { skip: clientsMissing() }, () => {
  const suite = sandboxForSuite();

  test('create deployment: the protobuf body decoded, the Deployment as the reference makes it, and its pod runs', async () => {
    assert.equal(
      (
        await succeeded(
          suite.env.kubectl([
            'create',
            'deployment',
            'hello',
            '--image=busybox',
            '--port=8080',
            '--',
            'sh',
            '-c',
            'echo hello; sleep 30',
          ]),
        )
      ).trim(),
      'deployment.apps/hello created',
    );
    const dep = JSON.parse(await succeeded(suite.env.kubectl(['get', 'deployment', 'hello', '-o', 'json']))) as {
      spec: { template: { metadata: object; spec: Record<string, unknown> } };
    };
    assert.deepEqual(dep.spec.template.metadata, { labels: { app: 'hello' } });
    assert.deepEqual(dep.spec.template.spec.containers, [
      {
        name: 'busybox',
        image: 'busybox',
        command: ['sh', '-c', 'echo hello; sleep 30'],
        ports: [{ containerPort: 8080, protocol: 'TCP' }],
        resources: {},
        imagePullPolicy: 'Always',
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
    ]);
    assert.equal(dep.spec.template.spec.enableServiceLinks, undefined, 'a template is not defaulted as a Pod is');
    await eventually(
      'the pod logs hello',
      async () => (await suite.env.kubectl(['logs', 'deployment/hello'])).stdout.includes('hello'),
      30_000,
    );
  });

  test("apply --server-side: the manager's applied fields in managedFields", async () => {
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied, labels: {app: web}}\ndata: {a: "1"}\n';
    assert.match(
      await succeeded(suite.env.kubectl(['apply', '--server-side', '-f', '-'], { input: manifest })),
      /configmap\/applied serverside-applied/,
    );
    const cm = JSON.parse(
      await succeeded(suite.env.kubectl(['get', 'configmap', 'applied', '-o', 'json', '--show-managed-fields'])),
    ) as { metadata: { managedFields: Record<string, unknown>[] } };
    const [entry, ...others] = cm.metadata.managedFields;
    assert.equal(others.length, 0);
    assert.match(String(entry!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(
      { ...entry, time: undefined },
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'v1',
        time: undefined,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } },
      },
    );
  });
});

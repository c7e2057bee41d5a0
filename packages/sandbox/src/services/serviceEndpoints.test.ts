import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { K8sObject } from '../client/kubeClient.js';
import { backendGroups, endpointSubsets, sliceBody } from './serviceEndpoints.js';
import { hostsFileText, loopbackFor } from './serviceProxy.js';

const service = {
  metadata: { name: 'web', namespace: 'shop' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
} as K8sObject;
const pod = (name: string, ready: boolean, extra: Record<string, unknown> = {}): K8sObject => ({
  metadata: { name, namespace: 'shop', uid: `uid-${name}`, labels: { app: 'web' }, ...extra },
  spec: {
    nodeName: 'n1',
    containers: [{ name: 'web', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
  },
  status: {
    phase: 'Running',
    podIP: `10.244.0.${name.length}`,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
});

test('endpoints: named target ports resolve per pod; ready pods are addresses, the others notReadyAddresses', () => {
  const other = { ...pod('x', true), metadata: { name: 'x', namespace: 'shop', labels: { app: 'db' } } } as K8sObject;
  const groups = backendGroups(service, [pod('a', true), pod('bb', false), other]);
  assert.equal(groups.length, 1);
  const [subset] = endpointSubsets(groups);
  assert.deepEqual(subset?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(
    (subset?.addresses as { ip: string }[]).map((a) => a.ip),
    ['10.244.0.1'],
  );
  assert.deepEqual(
    (subset?.notReadyAddresses as { ip: string }[]).map((a) => a.ip),
    ['10.244.0.2'],
  );
  const slice = sliceBody(groups[0]!);
  assert.deepEqual(
    (slice.endpoints as { conditions: unknown }[]).map((e) => e.conditions),
    [
      { ready: true, serving: true, terminating: false },
      { ready: false, serving: false, terminating: false },
    ],
  );
  assert.deepEqual(endpointSubsets(backendGroups(service, [])), []);
});

test("hosts file: the host's entries, then every Service's names; the short name only in its own namespace", () => {
  assert.equal(loopbackFor('10.0.0.23', 100), '127.100.0.23');
  const text = hostsFileText('shop', '127.0.0.1 localhost\n', [
    { namespace: 'shop', name: 'web', address: '127.100.0.23' },
    { namespace: 'other', name: 'db', address: '127.100.0.40' },
  ]);
  assert.equal(
    text,
    "127.0.0.1 localhost\n# The sandbox's Services.\n127.100.0.23\tweb.shop.svc.cluster.local web.shop.svc web.shop web\n127.100.0.40\tdb.other.svc.cluster.local db.other.svc db.other\n",
  );
});

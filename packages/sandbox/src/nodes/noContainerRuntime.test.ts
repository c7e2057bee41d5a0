// A node on a host where no container runtime works (no bubblewrap, no user namespaces): a pod
// that needs volume mounts fails at once, its status and a Warning event saying what to install.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateCertificates } from '../certs/certificates.js';
import { apiPath, KubeClient, type K8sObject } from '../client/kubeClient.js';
import { startSandbox } from '../sandbox.js';
import type { CgroupDriver } from './cgroups.js';
import { INSTALL_HINT, unavailableRuntime } from './containerRuntime.js';
import { defaultImageTable } from './images.js';
import { VirtualNode } from './virtualNode.js';

type Obj = Record<string, unknown>;
const noCgroups: CgroupDriver = {
  kind: 'none',
  reason: 'not needed here',
  create: () => undefined,
  close: () => undefined,
};

test('a pod with an emptyDir fails with StartError and a Failed event naming bubblewrap, without hanging', async () => {
  const sb = await startSandbox({ cluster: { enabled: false } });
  const client = new KubeClient({ server: sb.server, caPem: sb.caPem, token: sb.adminToken });
  const tls = await generateCertificates(['127.0.0.1']);
  const url = new URL(sb.server);
  const node = new VirtualNode(client, {
    node: { name: 'bare', cpu: '2', memory: '4Gi', pods: 10, labels: {}, taints: [] },
    images: defaultImageTable(''),
    apiHost: url.hostname,
    apiPort: Number(url.port),
    caPem: sb.caPem,
    tls: { key: tls.keyPem, cert: tls.certPem },
    cgroups: noCgroups,
    containerRuntime: unavailableRuntime(`bwrap (bubblewrap) is not installed; ${INSTALL_HINT}`),
    hostsFile: () => '/etc/hosts',
    podCIDR: '10.244.0.0/24',
  });
  try {
    await node.start();
    const created = await client.request('POST', apiPath('v1', 'pods', 'default'), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'mounts' },
      spec: {
        nodeName: 'bare',
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        containers: [
          { name: 'main', image: 'busybox', command: ['true'], volumeMounts: [{ name: 'tmp', mountPath: '/scratch' }] },
        ],
        volumes: [{ name: 'tmp', emptyDir: {} }],
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    let pod: K8sObject | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      pod = (await client.request<K8sObject>('GET', apiPath('v1', 'pods', 'default', 'mounts'))).body;
      if ((pod.status as Obj | undefined)?.phase === 'Failed') break;
    }
    const status = pod?.status as {
      phase: string;
      containerStatuses: { state: { terminated?: { reason: string; exitCode: number; message: string } } }[];
    };
    assert.equal(status.phase, 'Failed');
    const terminated = status.containerStatuses[0]?.state.terminated;
    assert.equal(terminated?.reason, 'StartError');
    assert.equal(terminated?.exitCode, 128);
    assert.match(terminated?.message ?? '', /cannot give a container its volume mounts.*apt-get install bubblewrap/);
    const events = (
      await client.request<{ items: Obj[] }>(
        'GET',
        `${apiPath('v1', 'events', 'default')}?fieldSelector=involvedObject.name%3Dmounts`,
      )
    ).body.items;
    assert.ok(
      events.some(
        (e) => e.reason === 'Failed' && e.type === 'Warning' && /apt-get install bubblewrap/.test(String(e.message)),
      ),
      JSON.stringify(events.map((e) => e.message)),
    );
  } finally {
    await node.stop({ deleteNode: true });
    client.close();
    await sb.stop();
  }
});

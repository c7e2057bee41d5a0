// Battery step for what the API server refuses on pods/exec, pods/attach and pods/portforward
// before any protocol switch: no container named in a pod of several, an unknown container, a
// pod no node runs, a missing pod, no permission, and a request that does not ask to upgrade.
// Their messages are what kubectl prints, so they are compared too. Only refusals are sent: an
// upgrade that succeeds is not an answer this battery can record (test/sandbox/streams.test.ts
// and test/control-plane/streamsOnReference.test.ts drive the streams themselves).
import type { Step } from './battery.js';
import type { ApiResponse } from './cluster.js';
import { core, NO_SCHEDULER } from './kit.js';
import { isStatus, statusFields, type Fields, type Normalizer } from './normalize.js';

/** A Status with its message: these messages are fixed formulas clients show verbatim. */
const refusal: Normalizer = (res: ApiResponse) =>
  isStatus(res.body)
    ? { ...statusFields(res), message: (res.body as { message?: unknown }).message }
    : { http: res.status, body: typeof res.body === 'string' ? res.body.slice(0, 200) : res.body };

const badRequest = (message: string): Fields => ({
  http: 400,
  kind: 'Status',
  status: 'Failure',
  reason: 'BadRequest',
  code: 400,
  message,
  'details.name': undefined,
  'details.kind': undefined,
  'details.group': undefined,
});

const WEBSOCKET_UPGRADE = {
  Connection: 'Upgrade',
  Upgrade: 'websocket',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Protocol': 'v5.channel.k8s.io',
};

function streamPod(name: string, containers: string[], nodeName?: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      schedulerName: NO_SCHEDULER,
      ...(nodeName ? { nodeName } : {}),
      containers: containers.map((c) => ({ name: c, image: 'busybox:1.36' })),
    },
  };
}

export const podStreams: Step = {
  name: 'pod-streams',
  async run(c) {
    const ns = await c.namespace();
    // A Node no kubelet serves, so that the one pod bound to it passes every check but the upgrade.
    const node = `${ns}-node`;
    await c.setup('node', {
      method: 'POST',
      path: '/api/v1/nodes',
      body: { apiVersion: 'v1', kind: 'Node', metadata: { name: node } },
    });
    await c.setup('node address', {
      method: 'PATCH',
      path: `/api/v1/nodes/${node}/status`,
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
          daemonEndpoints: { kubeletEndpoint: { Port: 1 } },
        },
      },
    });
    try {
      for (const [name, containers, nodeName] of [
        ['pair', ['a', 'b'], undefined],
        ['single', ['main'], undefined],
        ['placed', ['main'], node],
      ] as const)
        await c.setup(`pod ${name}`, {
          method: 'POST',
          path: core(ns, 'pods'),
          body: streamPod(name, [...containers], nodeName),
        });
      await c.setup('serviceaccount', {
        method: 'POST',
        path: core(ns, 'serviceaccounts'),
        body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'runner' } },
      });
      const tr = await c.setup('token', {
        method: 'POST',
        path: core(ns, 'serviceaccounts', 'runner/token'),
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} },
      });
      const token = String((tr.body as { status?: { token?: string } }).status?.token ?? '');

      const exec = (pod: string, q: string): string => `${core(ns, 'pods', pod)}/exec?command=true&stdout=true${q}`;
      const choose = badRequest('a container name must be specified for pod pair, choose one of: [a b]');
      await c.call('exec, no container named', { path: exec('pair', '') }, refusal, choose);
      await c.call(
        'exec upgrade, no container named',
        { path: exec('pair', ''), headers: WEBSOCKET_UPGRADE },
        refusal,
        choose,
      );
      await c.call(
        'attach, no container named',
        { method: 'POST', path: `${core(ns, 'pods', 'pair')}/attach?stdout=true` },
        refusal,
        choose,
      );
      await c.call(
        'exec, unknown container',
        { path: exec('pair', '&container=nope') },
        refusal,
        badRequest('container nope is not valid for pod pair'),
      );
      const unbound = badRequest('pod single does not have a host assigned');
      await c.call('exec, pod without a node', { path: exec('single', '') }, refusal, unbound);
      await c.call(
        'portforward, pod without a node',
        { path: `${core(ns, 'pods', 'single')}/portforward?ports=80` },
        refusal,
        unbound,
      );
      await c.call('exec, no such pod', { path: exec('missing', '') }, refusal, {
        http: 404,
        kind: 'Status',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
        message: 'pods "missing" not found',
        'details.name': 'missing',
        'details.kind': 'pods',
        'details.group': undefined,
      });
      const forbidden = (verb: string): Fields => ({
        http: 403,
        kind: 'Status',
        status: 'Failure',
        reason: 'Forbidden',
        code: 403,
        message: `pods "placed" is forbidden: User "system:serviceaccount:{ns}:runner" cannot ${verb} resource "pods/exec" in API group "" in the namespace "{ns}"`,
        'details.name': 'placed',
        'details.kind': 'pods',
        'details.group': undefined,
      });
      await c.call('exec GET without permission', { path: exec('placed', ''), token }, refusal, forbidden('get'));
      await c.call(
        'exec POST without permission',
        { method: 'POST', path: exec('placed', ''), token },
        refusal,
        forbidden('create'),
      );
      const upgrade = badRequest('Upgrade request required');
      await c.call('exec without Upgrade', { path: exec('placed', '') }, refusal, upgrade);
      await c.call('exec POST without Upgrade', { method: 'POST', path: exec('placed', '') }, refusal, upgrade);
      await c.call(
        'portforward without Upgrade',
        { path: `${core(ns, 'pods', 'placed')}/portforward?ports=80` },
        refusal,
        upgrade,
      );
    } finally {
      await c.setup('pods gone', { method: 'DELETE', path: core(ns, 'pods') + '?gracePeriodSeconds=0' }, [200, 404]);
      await c.setup('node gone', { method: 'DELETE', path: `/api/v1/nodes/${node}` }, [200, 404]);
    }
  },
};

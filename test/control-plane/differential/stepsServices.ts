// Battery step for Services: the defaults kube-apiserver fills in and the cluster IP it
// allocates from --service-cluster-ip-range (10.0.0.0/24 on both servers): a free address from
// the upper band when none is asked for, `None` for a headless Service, a requested address
// when it is free and in the range (422 otherwise), the address kept across an update that
// leaves it out, refused when an update changes it, and free again once its Service is gone.
// Addresses are compared by what they are, not their value: `dynamic#1` (allocated, in the
// range above the static band; the number tells addresses apart within the step), `requested`.
// Also: Endpoints and EndpointSlices refuse a loopback address (why sandbox pods get pod IPs).
import type { Step } from './battery.js';
import type { ApiResponse } from './cluster.js';
import { core, grouped, invalid } from './kit.js';
import { object, statusFields, isStatus, type Fields, type Normalizer } from './normalize.js';

/** The reference's range; the first 16 addresses are the static band dynamic allocation avoids. */
const RANGE_PREFIX = '10.0.0.';
const STATIC_BAND = 16;

function service(name: string, spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 'http' }], ...spec },
  };
}

function serviceFields(requested: string): Normalizer {
  const seen = new Map<string, string>();
  const token = (ip: unknown): unknown => {
    if (typeof ip !== 'string' || ip === 'None') return ip;
    if (ip === requested) return 'requested';
    const last = ip.startsWith(RANGE_PREFIX) ? Number(ip.slice(RANGE_PREFIX.length)) : NaN;
    if (!(last > STATIC_BAND && last < 255)) return `unexpected ${ip}`;
    if (!seen.has(ip)) seen.set(ip, `dynamic#${seen.size + 1}`);
    return seen.get(ip);
  };
  return (res: ApiResponse): Fields => {
    if (isStatus(res.body)) return statusFields(res);
    const b = res.body as { kind?: string; spec?: Record<string, unknown> };
    const s = b.spec ?? {};
    return {
      http: res.status,
      kind: b.kind,
      'spec.type': s.type,
      'spec.clusterIP': token(s.clusterIP),
      'spec.clusterIPs': Array.isArray(s.clusterIPs) ? s.clusterIPs.map(token) : s.clusterIPs,
      'spec.ipFamilies': s.ipFamilies,
      'spec.ipFamilyPolicy': s.ipFamilyPolicy,
      'spec.sessionAffinity': s.sessionAffinity,
      'spec.internalTrafficPolicy': s.internalTrafficPolicy,
      'spec.ports': s.ports,
    };
  };
}

const PORTS = [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 'http' }];
const defaults = (clusterIP: string): Fields => ({
  'spec.type': 'ClusterIP',
  'spec.clusterIP': clusterIP,
  'spec.clusterIPs': [clusterIP],
  'spec.ipFamilies': ['IPv4'],
  'spec.ipFamilyPolicy': 'SingleStack',
  'spec.sessionAffinity': 'None',
  'spec.internalTrafficPolicy': 'Cluster',
  'spec.ports': PORTS,
});

function endpoints(name: string, ip: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name },
    subsets: [{ addresses: [{ ip }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
  };
}

function endpointSlice(name: string, ip: string): object {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

export const endpointAddresses: Step = {
  name: 'endpoint-addresses',
  async run(c) {
    const ns = await c.namespace();
    const eps = core(ns, 'endpoints');
    const slices = grouped('discovery.k8s.io/v1', ns, 'endpointslices');
    await c.call(
      'endpoints with a pod IP',
      { method: 'POST', path: eps, body: endpoints('web', '10.244.0.5') },
      object('subsets'),
      {
        http: 201,
        kind: 'Endpoints',
        'metadata.name': 'web',
        subsets: [{ addresses: [{ ip: '10.244.0.5' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
      },
    );
    await c.call(
      'endpoints with a loopback address',
      { method: 'POST', path: eps, body: endpoints('loop', '127.0.0.1') },
      object(),
      invalid('Endpoints', 'loop', ['subsets[0].addresses[0].ip|FieldValueInvalid']),
    );
    await c.call(
      'endpoint slice with a pod IP',
      { method: 'POST', path: slices, body: endpointSlice('web-1', '10.244.0.5') },
      object('addressType', 'endpoints'),
      {
        http: 201,
        kind: 'EndpointSlice',
        'metadata.name': 'web-1',
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }],
      },
    );
    await c.call(
      'endpoint slice with a loopback address',
      { method: 'POST', path: slices, body: endpointSlice('loop', '127.0.0.1') },
      object(),
      invalid('EndpointSlice', 'loop', ['endpoints[0].addresses[0]|FieldValueInvalid']),
    );
  },
};

export const services: Step = {
  name: 'services',
  async run(c) {
    const ns = await c.namespace();
    const svcs = core(ns, 'services');
    // From the static band, different on every run: a run never meets an address an earlier run kept.
    const requested = `${RANGE_PREFIX}${2 + Math.floor(Math.random() * (STATIC_BAND - 1))}`;
    const fields = serviceFields(requested);
    const taken = invalid('Service', 'again', ['spec.clusterIPs|FieldValueInvalid']);
    try {
      const web = await c.call(
        'create allocates a cluster IP',
        { method: 'POST', path: svcs, body: service('web') },
        fields,
        { http: 201, ...defaults('dynamic#1') },
      );
      await c.call(
        'create headless',
        { method: 'POST', path: svcs, body: service('headless', { clusterIP: 'None' }) },
        fields,
        { http: 201, ...defaults('None') },
      );
      const selectorless = { ...service('headless-manual', { clusterIP: 'None' }) } as {
        spec: Record<string, unknown>;
      };
      delete selectorless.spec.selector;
      await c.call('create headless without selector', { method: 'POST', path: svcs, body: selectorless }, fields, {
        http: 201,
        'spec.clusterIP': 'None',
        'spec.clusterIPs': ['None'],
        'spec.ipFamilies': ['IPv4', 'IPv6'],
        'spec.ipFamilyPolicy': 'RequireDualStack',
      });
      await c.call(
        'create ExternalName',
        {
          method: 'POST',
          path: svcs,
          body: {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'external' },
            spec: { type: 'ExternalName', externalName: 'example.com' },
          },
        },
        fields,
        {
          http: 201,
          'spec.type': 'ExternalName',
          'spec.clusterIP': undefined,
          'spec.clusterIPs': undefined,
          'spec.ipFamilies': undefined,
          'spec.ipFamilyPolicy': undefined,
          'spec.internalTrafficPolicy': undefined,
        },
      );
      await c.call(
        'create with a requested cluster IP',
        { method: 'POST', path: svcs, body: service('pinned', { clusterIP: requested }) },
        fields,
        { http: 201, ...defaults('requested') },
      );
      await c.call(
        'create with a taken cluster IP',
        { method: 'POST', path: svcs, body: service('again', { clusterIP: requested }) },
        fields,
        taken,
      );
      await c.call(
        'create with a cluster IP out of range',
        { method: 'POST', path: svcs, body: service('again', { clusterIP: '10.1.0.5' }) },
        fields,
        taken,
      );
      const rv = (web.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      const replacement = {
        ...service('web', { selector: { app: 'web', tier: 'front' } }),
        metadata: { name: 'web', resourceVersion: rv },
      };
      await c.call(
        'update without the cluster IP keeps it',
        { method: 'PUT', path: core(ns, 'services', 'web'), body: replacement },
        fields,
        { http: 200, ...defaults('dynamic#1') },
      );
      await c.call(
        'update that changes the cluster IP',
        { method: 'PUT', path: core(ns, 'services', 'web'), body: service('web', { clusterIP: requested }) },
        fields,
        invalid('Service', 'web', ['spec.clusterIPs[0]|FieldValueInvalid']),
      );
      await c.setup('delete pinned', { method: 'DELETE', path: core(ns, 'services', 'pinned') });
      await c.call(
        'the address of a deleted Service is free again',
        { method: 'POST', path: svcs, body: service('again', { clusterIP: requested }) },
        fields,
        { http: 201, ...defaults('requested') },
      );
    } finally {
      // The reference keeps namespaces (it runs no namespace controller): give the addresses back.
      for (const name of ['web', 'headless', 'headless-manual', 'external', 'pinned', 'again'])
        await c.setup(`delete ${name}`, { method: 'DELETE', path: core(ns, 'services', name) }, [200, 404]);
    }
  },
};

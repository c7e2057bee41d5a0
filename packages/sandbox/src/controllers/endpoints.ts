// The endpoints and EndpointSlice controllers (pkg/controller/endpoint, endpointslice) in one:
// for each Service with a selector, an Endpoints object of the same name and EndpointSlices
// labelled kubernetes.io/service-name (owned by the Service, so they go with it) listing the
// pods it selects, kept current as pods become ready, stop being ready or go. Services without
// a selector are left to whoever writes their endpoints (the `kubernetes` Service, users).
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import {
  ENDPOINTS_MANAGED_BY,
  ENDPOINTS_MANAGED_BY_LABEL,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  SERVICE_NAME_LABEL,
  backendGroups,
  endpointSubsets,
  hasManagedEndpoints,
  sliceBody,
} from '../services/serviceEndpoints.js';
import { Informer, WorkQueue, keyOf } from './informer.js';
import { canonical, type Obj } from './podUtil.js';

const SLICES = 'discovery.k8s.io/v1';

export class EndpointsController {
  private readonly services: Informer;
  private readonly pods: Informer;
  private readonly endpoints: Informer;
  private readonly slices: Informer;
  private readonly queue: WorkQueue;

  constructor(private readonly client: KubeClient) {
    this.queue = new WorkQueue((k) => this.sync(k));
    this.services = new Informer(client, apiPath('v1', 'services')).on((_t, s) => this.queue.add(keyOf(s)));
    // A pod's labels may have changed: every Service of its namespace looks again.
    this.pods = new Informer(client, apiPath('v1', 'pods')).on((_t, pod) => {
      for (const s of this.services.list())
        if (s.metadata.namespace === pod.metadata.namespace) this.queue.add(keyOf(s));
    });
    this.endpoints = new Informer(client, apiPath('v1', 'endpoints')).on((_t, e) => this.queue.add(keyOf(e)));
    this.slices = new Informer(
      client,
      `${apiPath(SLICES, 'endpointslices')}?labelSelector=${encodeURIComponent(`${MANAGED_BY_LABEL}=${MANAGED_BY}`)}`,
    ).on((_t, s) => {
      const svc = (s.metadata.labels as Obj | undefined)?.[SERVICE_NAME_LABEL];
      if (svc) this.queue.add(`${s.metadata.namespace}/${String(svc)}`);
    });
  }

  start(): void {
    for (const i of [this.services, this.pods, this.endpoints, this.slices]) i.start();
  }
  stop(): void {
    this.queue.stop();
    for (const i of [this.services, this.pods, this.endpoints, this.slices]) i.stop();
  }

  private async sync(key: string): Promise<void> {
    await Promise.all([this.services.hasSynced, this.pods.hasSynced, this.endpoints.hasSynced, this.slices.hasSynced]);
    const [ns, name] = key.split('/') as [string, string];
    const service = this.services.get(key);
    const managed = service !== undefined && hasManagedEndpoints(service) && !service.metadata.deletionTimestamp;
    const mine = this.slices
      .list()
      .filter(
        (s) => s.metadata.namespace === ns && (s.metadata.labels as Obj | undefined)?.[SERVICE_NAME_LABEL] === name,
      );
    if (!managed) {
      // Only its own: Endpoints someone wrote for a Service yet to come are theirs.
      const endpoints = this.endpoints.get(key);
      if (
        service === undefined &&
        (endpoints?.metadata.labels as Obj | undefined)?.[ENDPOINTS_MANAGED_BY_LABEL] === ENDPOINTS_MANAGED_BY
      )
        await this.check(this.client.request('DELETE', apiPath('v1', 'endpoints', ns, name)), key);
      for (const s of mine)
        await this.check(this.client.request('DELETE', apiPath(SLICES, 'endpointslices', ns, s.metadata.name)), key);
      return;
    }
    const groups = backendGroups(service, this.pods.list());
    await this.writeEndpoints(service, endpointSubsets(groups));
    const wanted = groups.map(sliceBody);
    // Keep a slice whose ports match a wanted one (update it if its endpoints changed); delete the rest.
    const unused = [...mine];
    for (const body of wanted) {
      const i = unused.findIndex((s) => canonical(s.ports) === canonical(body.ports));
      const existing = i >= 0 ? unused.splice(i, 1)[0] : undefined;
      if (!existing) {
        await this.check(
          this.client.request('POST', apiPath(SLICES, 'endpointslices', ns), {
            apiVersion: SLICES,
            kind: 'EndpointSlice',
            metadata: this.sliceMeta(service),
            ...body,
          }),
          key,
        );
      } else if (canonical(existing.endpoints) !== canonical(body.endpoints)) {
        await this.check(
          this.client.request('PUT', apiPath(SLICES, 'endpointslices', ns, existing.metadata.name), {
            ...existing,
            ...body,
          }),
          key,
        );
      }
    }
    for (const s of unused)
      await this.check(this.client.request('DELETE', apiPath(SLICES, 'endpointslices', ns, s.metadata.name)), key);
  }

  private sliceMeta(service: K8sObject): Obj {
    return {
      generateName: `${service.metadata.name}-`,
      labels: {
        ...(service.metadata.labels as Obj | undefined),
        [SERVICE_NAME_LABEL]: service.metadata.name,
        [MANAGED_BY_LABEL]: MANAGED_BY,
      },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: service.metadata.name,
          uid: service.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    };
  }

  private async writeEndpoints(service: K8sObject, subsets: Obj[]): Promise<void> {
    const { namespace, name } = service.metadata;
    const labels = {
      ...(service.metadata.labels as Obj | undefined),
      [ENDPOINTS_MANAGED_BY_LABEL]: ENDPOINTS_MANAGED_BY,
    };
    const current = this.endpoints.get(keyOf(service));
    const body = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace, labels, ...(current ? { resourceVersion: current.metadata.resourceVersion } : {}) },
      ...(subsets.length ? { subsets } : {}),
    };
    if (
      current &&
      canonical(current.subsets ?? []) === canonical(subsets) &&
      canonical(current.metadata.labels ?? {}) === canonical(labels)
    )
      return;
    const r = current
      ? this.client.request('PUT', apiPath('v1', 'endpoints', namespace, name), body)
      : this.client.request('POST', apiPath('v1', 'endpoints', namespace), body);
    await this.check(r, keyOf(service));
  }

  /** A conflict or a stale cache: the watch brings the newer object, and the queue retries. */
  private async check(call: Promise<{ status: number; body: unknown }>, key: string): Promise<void> {
    const r = await call;
    if (r.status >= 300 && r.status !== 404) throw new Error(`endpoints of ${key}: HTTP ${r.status}`);
  }
}

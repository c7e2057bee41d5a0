// The namespace controller's deletion half: once a namespace has a deletionTimestamp, delete
// every namespaced resource in it (found through discovery, as the real one does), wait until
// lists come back empty (finalizers and graceful pods take their time), then clear the
// `kubernetes` finalizer through /finalize so the API server removes the namespace.
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { Informer, WorkQueue } from './informer.js';

interface Discovered {
  path: string;
}

export class NamespaceDeletionController {
  private readonly namespaces: Informer;
  private readonly queue: WorkQueue;
  private resources: Discovered[] | undefined;

  constructor(private readonly client: KubeClient) {
    this.queue = new WorkQueue((ns) => this.sync(ns));
    this.namespaces = new Informer(client, apiPath('v1', 'namespaces')).on((_t, ns) => {
      if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name);
    });
  }

  start(): void {
    this.namespaces.start();
  }
  stop(): void {
    this.queue.stop();
    this.namespaces.stop();
  }

  private async discover(): Promise<Discovered[]> {
    if (this.resources) return this.resources;
    const out: Discovered[] = [];
    const groups = await this.client.request<{ groups: { preferredVersion: { groupVersion: string } }[] }>(
      'GET',
      '/apis',
    );
    const gvs = ['v1', ...groups.body.groups.map((g) => g.preferredVersion.groupVersion)];
    const seen = new Set<string>();
    for (const gv of gvs) {
      const list = await this.client.request<{
        resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
      }>('GET', gv === 'v1' ? '/api/v1' : `/apis/${gv}`);
      for (const r of list.body.resources ?? []) {
        if (!r.namespaced || r.name.includes('/') || !r.verbs.includes('deletecollection') || !r.verbs.includes('list'))
          continue;
        if (seen.has(r.name + r.kind)) continue; // events.k8s.io events are core events
        seen.add(r.name + r.kind);
        out.push({ path: `${gv === 'v1' ? '/api/v1' : `/apis/${gv}`}/namespaces/{ns}/${r.name}` });
      }
    }
    this.resources = out;
    return out;
  }

  private async sync(name: string): Promise<void> {
    const ns = this.namespaces.get(name);
    if (!ns?.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const r of await this.discover()) {
      const path = r.path.replace('{ns}', encodeURIComponent(name));
      const list = await this.client.request<{ items?: K8sObject[] }>('GET', path);
      const items = list.body.items ?? [];
      if (!items.length) continue;
      remaining += items.length;
      if (items.some((o) => !o.metadata.deletionTimestamp))
        await this.client.request('DELETE', `${path}?propagationPolicy=Background`);
    }
    if (remaining > 0) {
      this.queue.addAfter(name, 100);
      return;
    }
    const finalizers = (((ns.spec ?? {}) as { finalizers?: string[] }).finalizers ?? []).filter(
      (f) => f !== 'kubernetes',
    );
    const r = await this.client.request('PUT', `${apiPath('v1', 'namespaces', undefined, name)}/finalize`, {
      ...ns,
      spec: { ...(ns.spec as object), finalizers },
    });
    if (r.status === 409) throw new Error('conflict finalizing namespace, retry');
  }
}

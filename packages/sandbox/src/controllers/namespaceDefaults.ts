// What every namespace gets from kube-controller-manager: ServiceAccount `default` (the
// serviceaccounts-controller, recreated if deleted) and ConfigMap `kube-root-ca.crt` with the
// cluster CA (root-ca-cert-publisher), which every pod's projected token volume mounts.
import { apiPath, type KubeClient } from '../client/kubeClient.js';
import { Informer, WorkQueue } from './informer.js';

export class NamespaceDefaultsController {
  private readonly namespaces: Informer;
  private readonly accounts: Informer;
  private readonly caMaps: Informer;
  private readonly queue: WorkQueue;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: { serviceAccount: boolean; caPem?: string },
  ) {
    this.queue = new WorkQueue((ns) => this.sync(ns));
    this.namespaces = new Informer(client, apiPath('v1', 'namespaces')).on((_t, ns) =>
      this.queue.add(ns.metadata.name),
    );
    this.accounts = new Informer(
      client,
      `${apiPath('v1', 'serviceaccounts')}?fieldSelector=metadata.name%3Ddefault`,
    ).on((t, sa) => {
      if (t === 'DELETED') this.queue.add(sa.metadata.namespace!);
    });
    this.caMaps = new Informer(
      client,
      `${apiPath('v1', 'configmaps')}?fieldSelector=metadata.name%3Dkube-root-ca.crt`,
    ).on((t, cm) => {
      if (t === 'DELETED') this.queue.add(cm.metadata.namespace!);
    });
  }

  start(): void {
    this.namespaces.start();
    this.accounts.start();
    this.caMaps.start();
  }
  stop(): void {
    this.queue.stop();
    this.namespaces.stop();
    this.accounts.stop();
    this.caMaps.stop();
  }

  private async sync(name: string): Promise<void> {
    await Promise.all([this.namespaces.hasSynced, this.accounts.hasSynced, this.caMaps.hasSynced]);
    const ns = this.namespaces.get(name);
    if (!ns || ns.metadata.deletionTimestamp) return;
    if (this.opts.serviceAccount && !this.accounts.get(`${name}/default`)) {
      const r = await this.client.request('POST', apiPath('v1', 'serviceaccounts', name), {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default' },
      });
      if (r.status !== 201 && r.status !== 409 && r.status !== 403 && r.status !== 404)
        throw new Error(`default serviceaccount in ${name}: ${r.status}`);
    }
    if (this.opts.caPem && !this.caMaps.get(`${name}/kube-root-ca.crt`)) {
      const r = await this.client.request('POST', apiPath('v1', 'configmaps', name), {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'kube-root-ca.crt',
          annotations: {
            'kubernetes.io/description':
              'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
          },
        },
        data: { 'ca.crt': this.opts.caPem },
      });
      if (r.status !== 201 && r.status !== 409 && r.status !== 403 && r.status !== 404)
        throw new Error(`kube-root-ca.crt in ${name}: ${r.status}`);
    }
  }
}

// The part of kube-aggregator's AvailableConditionController the sandbox can answer: a local
// APIService (no service; served by the API server itself) is Available=True, reason Local.
// APIServices backed by a service are stored and listed but never proxied to, so the sandbox
// leaves their condition unset rather than claim a discovery check it did not make.
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { Informer, WorkQueue } from './informer.js';
import type { Obj } from './podUtil.js';

export class APIServiceAvailability {
  private readonly services: Informer;
  private readonly queue: WorkQueue;

  constructor(private readonly client: KubeClient) {
    this.queue = new WorkQueue((name) => this.sync(name));
    this.services = new Informer(client, apiPath('apiregistration.k8s.io/v1', 'apiservices')).on((type, o) => {
      if (type !== 'DELETED') this.queue.add(o.metadata.name);
    });
  }

  start(): void {
    this.services.start();
  }
  stop(): void {
    this.queue.stop();
    this.services.stop();
  }

  private async sync(name: string): Promise<void> {
    const svc = this.services.get(name);
    if (!svc || (svc.spec as Obj | undefined)?.service) return;
    const conditions = ((svc.status as Obj | undefined)?.conditions ?? []) as Obj[];
    const current = conditions.find((c) => c.type === 'Available');
    if (current?.status === 'True' && current.reason === 'Local') return;
    const available = {
      type: 'Available',
      status: 'True',
      lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      reason: 'Local',
      message: 'Local APIServices are always available',
    };
    await this.writeStatus(svc, [...conditions.filter((c) => c.type !== 'Available'), available]);
  }

  private async writeStatus(svc: K8sObject, conditions: Obj[]): Promise<void> {
    const r = await this.client.request(
      'PATCH',
      apiPath('apiregistration.k8s.io/v1', 'apiservices', undefined, svc.metadata.name, 'status'),
      { status: { conditions } },
      'application/merge-patch+json',
    );
    if (r.status !== 200 && r.status !== 404) throw new Error(`status of apiservice ${svc.metadata.name}: ${r.status}`);
  }
}

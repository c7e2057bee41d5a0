// Records core/v1 Events about objects, as client-go's EventRecorder does (reason, message,
// involvedObject, source.component, reportingComponent), so `kubectl describe` and `kubectl get
// events` show what the controllers did.
import { randomBytes } from 'node:crypto';
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';

export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
  ) {}

  async record(obj: K8sObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ns = obj.metadata.namespace ?? 'default';
    const ts = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: {
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        apiVersion: obj.apiVersion,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: ts,
      lastTimestamp: ts,
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: '',
    };
    try {
      await this.client.request('POST', apiPath('v1', 'events', ns), event);
    } catch {
      /* events are best effort, as in client-go */
    }
  }
}

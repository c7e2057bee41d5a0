import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

/** The names of a worker's script pods and workspace Secrets in the `default` namespace (`longshore.io/worker=<name>`, or any worker). */
export async function scriptObjects(kubeconfigPath: string, worker?: string): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const labelSelector = worker ? `longshore.io/worker=${worker}` : 'longshore.io/worker';
  const [pods, secrets] = await Promise.all([core.listNamespacedPod({ namespace: 'default', labelSelector }), core.listNamespacedSecret({ namespace: 'default', labelSelector })]);
  return [...pods.items, ...secrets.items].map((o) => o.metadata!.name!);
}

/** Waits until nothing of the worker's is left in the cluster; fails naming what stayed. */
export async function expectNothingLeft(kubeconfigPath: string, worker?: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await scriptObjects(kubeconfigPath, worker);
    if (left.length === 0) return;
    assert.ok(Date.now() < deadline, `left behind: ${left.join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

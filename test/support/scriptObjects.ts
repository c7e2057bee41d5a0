import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import type { Lab } from './lab.js';

/** The names of a worker's script pods and workspace Secrets in the `default` namespace (`longshore.io/worker=<name>`, or any worker). */
export async function scriptObjects(kubeconfigPath: string, worker?: string): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const labelSelector = worker ? `longshore.io/worker=${worker}` : 'longshore.io/worker';
  const [pods, secrets] = await Promise.all([
    core.listNamespacedPod({ namespace: 'default', labelSelector }),
    core.listNamespacedSecret({ namespace: 'default', labelSelector }),
  ]);
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

/** Deploys a project with `longshore deploy --follow` while watching for the pods it makes; answers the CLI's result and those pods as created. */
export async function deployCatchingPods(
  lab: Lab,
  kubeconfigPath: string,
  project: string,
  options: { namespace?: string; labelSelector?: string } = {},
): Promise<{ res: Awaited<ReturnType<Lab['cli']>>; pods: V1Pod[] }> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const pods: V1Pod[] = [];
  const watch = await new Watch(kc).watch(
    `/api/v1/namespaces/${options.namespace ?? 'default'}/pods`,
    options.labelSelector ? { labelSelector: options.labelSelector } : {},
    (type: string, pod: V1Pod) => {
      if (type === 'ADDED') pods.push(pod);
    },
    () => {},
  );
  try {
    return { res: await lab.cli(['deploy', project, '--to', 'Cluster', '--follow']), pods };
  } finally {
    watch.abort();
  }
}

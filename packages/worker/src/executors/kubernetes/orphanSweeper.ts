import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeApi } from './kubeApi.js';
import { checkPodSelector } from './checkPod.js';
import { LABELS, labelValue, workerSelector } from './kubeNames.js';

export interface OrphanSweeperOptions {
  api: Pick<KubeApi, 'listPods' | 'listSecrets' | 'deletePod' | 'deleteSecret'>;
  workerName: string;
  intervalMs: number;
  /** Whether an operation is someone's business (running, or left over and not yet decided): its objects are kept. */
  claimed(operationId: string): boolean;
  log: Logger;
}

/**
 * Finds and removes the pods and Secrets of operations nobody runs any more: a worker killed
 * between creating a Secret and its pod, a delete that failed, a pod left after a crash whose
 * operation the server has since given up on. Objects are found by the worker's label, so two
 * workers in one namespace never touch each other's.
 */
export class OrphanSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(private readonly options: OrphanSweeperOptions) {}

  /** The operation ids that still have a pod or a Secret of this worker. */
  async operations(signal?: AbortSignal): Promise<string[]> {
    const { api, workerName } = this.options;
    const selector = workerSelector(workerName);
    const [pods, secrets] = await Promise.all([
      api.listPods(selector, signal ? { signal } : {}),
      api.listSecrets(selector, signal ? { signal } : {}),
    ]);
    const ids = new Set<string>();
    for (const object of [...pods, ...secrets]) {
      const id = operationOf(object.metadata);
      if (id) ids.add(id);
    }
    return [...ids];
  }

  /** Deletes the operation's pods (no grace: nobody reads their log) and Secrets, found by label: whatever their names. */
  async remove(operationId: string, signal?: AbortSignal): Promise<void> {
    const { api, workerName } = this.options;
    const options = signal ? { signal } : {};
    const selector = `${workerSelector(workerName)},${LABELS.operation}=${labelValue(operationId)}`;
    const [pods, secrets] = await Promise.all([api.listPods(selector, options), api.listSecrets(selector, options)]);
    for (const pod of pods) await api.deletePod(pod.metadata!.name!, 0, options);
    for (const secret of secrets) await api.deleteSecret(secret.metadata!.name!, options);
  }

  /** Sweeps every intervalMs from now on; the timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** One pass; failures are logged and the next pass tries again. Resolves with what it removed. */
  async sweep(): Promise<string[]> {
    const { claimed, log } = this.options;
    const removed: string[] = [];
    try {
      for (const id of await this.operations()) {
        if (claimed(id)) continue;
        await this.remove(id);
        removed.push(id);
      }
      // A health check deletes its pod at once; one found here outlived a failed delete or a dead
      // worker. Deleting one whose check is still under way is harmless: creating it was the check.
      for (const pod of await this.options.api.listPods(checkPodSelector(this.options.workerName)))
        await this.options.api.deletePod(pod.metadata!.name!, 0);
    } catch (err) {
      log.warn({ err }, 'the sweep for orphaned script pods and Secrets failed; trying again later');
    }
    if (removed.length)
      log.info({ operations: removed }, 'removed the script pods and Secrets of operations nobody runs');
    return removed;
  }
}

function operationOf(metadata: V1ObjectMeta | undefined): string | undefined {
  return metadata?.labels?.[LABELS.operation];
}

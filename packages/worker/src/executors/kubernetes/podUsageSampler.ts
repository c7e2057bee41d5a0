import type { V1Pod } from '@kubernetes/client-node';
import { cpuMillis, memoryBytes, type ResourceUsage } from '@longshore/protocol';
import type { Logger } from 'pino';
import type { KubeApi } from './kubeApi.js';
import { SCRIPT_CONTAINER } from './kubeNames.js';

/** A CPU use this close to the CPU limit means the kernel held the script back. */
const THROTTLED_SHARE = 0.95;

/**
 * Reads a running script pod's usage from metrics.k8s.io at an interval and keeps what
 * right-sizing needs of it: peak and mean CPU, peak memory. The reads run one at a time; a read
 * that fails is skipped (usage is a nicety, never a reason to fail a step).
 */
export class PodUsageSampler {
  #samples = 0;
  #peakCpu = 0;
  #cpuSum = 0;
  #peakMemory = 0;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> = Promise.resolve();
  readonly #startedAt: number;

  constructor(
    private readonly api: Pick<KubeApi, 'readPodMetrics'>,
    private readonly podName: string,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.#startedAt = now();
  }

  start(): void {
    if (this.intervalMs <= 0) return;
    const read = () => {
      this.#reading = this.#reading.then(() => this.read());
    };
    read();
    this.#timer = setInterval(read, this.intervalMs);
    this.#timer.unref();
  }

  /** Stops reading; what the pod used, with what it asked for, or undefined when nothing was read and it was not OOM-killed. */
  async stop(pod: V1Pod | undefined): Promise<ResourceUsage | undefined> {
    clearInterval(this.#timer);
    await this.#reading;
    const container = pod?.spec?.containers.find((c) => c.name === SCRIPT_CONTAINER);
    const status = pod?.status?.containerStatuses?.find((c) => c.name === SCRIPT_CONTAINER);
    const oomKilled =
      status?.state?.terminated?.reason === 'OOMKilled' || status?.lastState?.terminated?.reason === 'OOMKilled';
    if (this.#samples === 0 && !oomKilled) return undefined;
    const amounts = (list: Record<string, string> | undefined) => ({
      ...(list?.cpu !== undefined && { cpuMillis: cpuMillis(list.cpu) }),
      ...(list?.memory !== undefined && { memoryBytes: memoryBytes(list.memory) }),
    });
    const limits = amounts(container?.resources?.limits);
    return {
      samples: this.#samples,
      peakCpuMillis: this.#peakCpu,
      meanCpuMillis: this.#samples ? Math.round(this.#cpuSum / this.#samples) : 0,
      peakMemoryBytes: this.#peakMemory,
      durationSeconds: Math.max(0, (this.now() - this.#startedAt) / 1000),
      requests: amounts(container?.resources?.requests),
      limits,
      oomKilled,
      throttled: limits.cpuMillis !== undefined && this.#peakCpu >= limits.cpuMillis * THROTTLED_SHARE,
    };
  }

  private async read(): Promise<void> {
    try {
      const usage = (await this.api.readPodMetrics(this.podName))?.find((c) => c.name === SCRIPT_CONTAINER);
      if (!usage) return;
      this.#samples++;
      this.#cpuSum += usage.cpuMillis;
      this.#peakCpu = Math.max(this.#peakCpu, usage.cpuMillis);
      this.#peakMemory = Math.max(this.#peakMemory, usage.memoryBytes);
    } catch (err) {
      this.log.debug({ err, pod: this.podName }, 'reading the script pod usage failed; skipping this sample');
    }
  }
}

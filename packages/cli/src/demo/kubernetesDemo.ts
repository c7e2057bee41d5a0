import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LongshoreClient } from '@longshore/client';
import { LongshoreError } from '@longshore/protocol';
import type { Logger } from 'pino';
import { ClusterNodeReporter } from './clusterNodeReporter.js';

export interface KubernetesDemoOptions {
  client: LongshoreClient;
  dataDir: string;
  /** The sandbox configuration: its node groups and the autoscaler's delays. */
  sandboxConfig: string;
  log: Logger;
  print(line: string): void;
}

export interface KubernetesDemo {
  kubeconfigPath: string;
  nodes: ClusterNodeReporter;
  /** How long an added node must stay unneeded before the autoscaler removes it. */
  scaleDownDelayMs: number;
  /** One line on the cluster for the banner. */
  summary: string;
  stop(): Promise<void>;
}

const NAMESPACE = 'default';
const WORKER_NAME = 'demo-kubernetes';

/**
 * The sandbox cluster and a Kubernetes worker against it, in this process: the worker reaches
 * the cluster only through the kubeconfig the sandbox wrote, as it would reach a real one.
 */
export async function startKubernetesDemo(o: KubernetesDemoOptions): Promise<KubernetesDemo> {
  const [sandboxApi, workerApi] = await Promise.all([import('@longshore/sandbox'), import('@longshore/worker')]);
  const config = sandboxApi.loadSandboxConfig(o.sandboxConfig);
  const sandbox = await sandboxApi.startSandbox({
    ...config,
    kubeconfigPath: resolve(config.kubeconfigPath ?? join(o.dataDir, 'sandbox', 'kubeconfig')),
  });
  const stops: (() => Promise<void>)[] = [() => sandbox.stop()];
  let nodes: ClusterNodeReporter | undefined;
  // The node lines stop first: while the worker drains, they would only interleave with the goodbye.
  const stop = async (): Promise<void> => {
    await nodes?.stop();
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const runtime = sandbox.cluster?.containerRuntime;
    if (!sandbox.cluster || runtime?.kind === 'none') {
      throw new LongshoreError(
        'CONFIG_INVALID',
        `The sandbox cannot run script pods on this machine: ${runtime?.reason ?? `${o.sandboxConfig} turns its nodes off`}. Or run the demo with a local worker: npm start -- --executor local`,
      );
    }
    const client = new sandboxApi.KubeClient({
      server: sandbox.server,
      caPem: sandbox.caPem,
      token: sandbox.adminToken,
      userAgent: 'longshore-demo',
    });
    stops.push(async () => client.close());
    const scaleDownDelayMs = sandbox.config.cluster.autoscaler.scaleDownUnneededMs;
    const reporter = new ClusterNodeReporter(client, o.print, scaleDownDelayMs);
    nodes = reporter;
    await reporter.start();

    const dataDir = join(o.dataDir, 'demo-kubernetes-worker');
    const registrationToken = existsSync(workerApi.credentialPath(dataDir))
      ? undefined
      : (await o.client.workers.createRegistrationToken({ pools: ['default'] })).token;
    const scriptPods = workerApi.parseScriptPodsConfig({ namespace: NAMESPACE, workerName: WORKER_NAME });
    const worker = workerApi.parseWorkerConfig({
      serverUrl: o.client.url,
      name: WORKER_NAME,
      executor: 'kubernetes',
      dataDir,
      maxConcurrentOperations: scriptPods.maxConcurrentOperations,
      // Ctrl-C should not wait the production minute for a script to finish.
      drainDeadlineMs: 5_000,
      ...(registrationToken ? { registrationToken } : {}),
    });
    const running = await workerApi.startWorker(worker, {
      log: o.log,
      executorSettings: {
        kubernetes: { kubeconfigPath: sandbox.kubeconfigPath, namespace: NAMESPACE, scriptPods },
      },
    });
    stops.push(() => running.stop());

    const isolation = `containers isolated with ${runtime?.kind ?? 'none'}${runtime?.reason ? ` (${runtime.reason})` : ''}`;
    return {
      kubeconfigPath: sandbox.kubeconfigPath,
      nodes: reporter,
      scaleDownDelayMs,
      stop,
      // Pods have no network of their own here, which matters to anyone who installs more into it (the chart's port 8080).
      summary: `Sandbox cluster at ${sandbox.server}: nodes ${sandbox.cluster.nodeNames().join(', ')}; ${isolation}; pods share this machine's network (their ports are its ports)`,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { pino, type Logger } from 'pino';
import { LongshoreError } from '@longshore/protocol';
import type { KubernetesExecutor, WorkerConfig } from '@longshore/worker';
import { runUntilSignal } from '../lifecycle.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker that takes operations from a Longshore server')
    .option('--server <url>', 'the server URL (default: $LONGSHORE_URL)')
    .option('--registration-token <token>', 'one-time token for the first start (default: $LONGSHORE_REGISTRATION_TOKEN)')
    .option('--name <name>', 'worker name, unique on the server (default: the host name)')
    .option('--executor <kind>', 'local: run operations as child processes; kubernetes: in script pods', 'local')
    .option('--kubeconfig <path>', 'kubernetes executor: a kubeconfig (default: the in-cluster ServiceAccount)')
    .option('--namespace <ns>', 'kubernetes executor: the namespace for script pods (default: the pod\'s own namespace)')
    .option('--script-pods <file>', 'kubernetes executor: script pod settings (YAML or JSON; the chart renders it)')
    .option('--pool <pool...>', 'informational: the pools come from the registration token')
    .option('--max-concurrent <n>', 'operations run at once', '4')
    .option('--data <dir>', 'where the worker keeps its credential', '.longshore-worker')
    .option('--drain-deadline-ms <ms>', 'on stop, how long running operations may finish before they are cancelled', '60000')
    .action(async (opts: WorkerFlags) => {
      const { Worker, parseWorkerConfig } = await import('@longshore/worker');
      const config = parseWorkerConfig({
        serverUrl: opts.server ?? process.env.LONGSHORE_URL,
        registrationToken: opts.registrationToken ?? process.env.LONGSHORE_REGISTRATION_TOKEN,
        name: opts.name ?? (process.env.HOSTNAME || 'worker'),
        executor: opts.executor,
        maxConcurrentOperations: opts.maxConcurrent,
        dataDir: opts.data,
        drainDeadlineMs: opts.drainDeadlineMs,
      });
      const log = pino({ name: 'longshore-worker' });
      const executor = config.executor === 'kubernetes' ? await kubernetesExecutor(opts, config, log) : undefined;
      const worker = new Worker(config, { log, ...(executor ? { executor } : {}) });
      await runUntilSignal(
        'worker',
        async () => {
          await worker.stop();
          await executor?.close();
        },
        worker.start(),
      );
    });
}

interface WorkerFlags {
  server?: string;
  registrationToken?: string;
  name?: string;
  executor: string;
  maxConcurrent: string;
  data: string;
  drainDeadlineMs: string;
  kubeconfig?: string;
  namespace?: string;
  scriptPods?: string;
}

const IN_CLUSTER_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The one place a worker's Kubernetes client is made: in-cluster, or from a kubeconfig. */
async function kubernetesExecutor(opts: WorkerFlags, config: WorkerConfig, log: Logger): Promise<KubernetesExecutor> {
  const { ClientNodeKubeApi, KubernetesExecutor, kubeConfigFor, parseScriptPodsConfig } = await import('@longshore/worker');
  const inCluster = opts.kubeconfig === undefined;
  const namespace = opts.namespace ?? (inCluster ? readText(IN_CLUSTER_NAMESPACE).trim() : 'default');
  const settings: unknown = opts.scriptPods ? parseYaml(readText(opts.scriptPods)) : {};
  const scriptPods = parseScriptPodsConfig({ ...(settings as object), namespace, workerName: config.name });
  const kubeConfig = kubeConfigFor({ inCluster, ...(opts.kubeconfig ? { kubeconfigPath: opts.kubeconfig } : {}) });
  return new KubernetesExecutor({
    api: new ClientNodeKubeApi(kubeConfig, namespace, { timeoutMs: scriptPods.apiTimeoutMs }),
    config: scriptPods,
    workspace: { workerName: config.name, serverUrl: config.serverUrl },
    server: { url: config.serverUrl },
    log,
  });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new LongshoreError('CONFIG_INVALID', `Cannot read ${path}: ${(e as Error).message}`);
  }
}

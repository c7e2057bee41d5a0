import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { LongshoreError } from '@longshore/protocol';
import type { KubernetesSettings, ScriptPodsConfig } from '@longshore/worker';
import { runUntilSignal } from '../lifecycle.js';
import { readYamlFile } from '../yamlFile.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker that takes operations from a Longshore server')
    .option('--server <url>', 'the server URL (default: $LONGSHORE_URL)')
    .option(
      '--server-thumbprint <sha256>',
      "pin the server's certificate by the thumbprint it prints at start (default: $LONGSHORE_SERVER_THUMBPRINT; else the system's CAs decide)",
    )
    .option(
      '--registration-token <token>',
      'one-time token for the first start (default: $LONGSHORE_REGISTRATION_TOKEN)',
    )
    .option('--name <name>', 'worker name, unique on the server (default: $LONGSHORE_WORKER_NAME, else the host name)')
    .option('--executor <kind>', 'local: run operations as child processes; kubernetes: in script pods', 'local')
    .option('--kubeconfig <path>', 'kubernetes executor: a kubeconfig (default: the in-cluster ServiceAccount)')
    .option('--namespace <ns>', "kubernetes executor: the namespace for script pods (default: the pod's own namespace)")
    .option('--script-pods <file>', 'kubernetes executor: script pod settings (YAML or JSON; the chart renders it)')
    .option('--pool <pool...>', 'informational: the pools come from the registration token')
    .option(
      '--max-concurrent <n>',
      'operations run at once (default: $LONGSHORE_MAX_CONCURRENT, else 4; kubernetes: scriptPods maxConcurrentOperations)',
    )
    .option(
      '--health-port <port>',
      'serve /livez, /readyz and /metrics on this port (default: $LONGSHORE_HEALTH_PORT; off when unset)',
    )
    .option('--data <dir>', 'where the worker keeps its credential', '.longshore-worker')
    .option(
      '--credential-secret <name>',
      'kubernetes executor: keep the credential in this Secret of the namespace instead of --data (the chart sets it)',
    )
    .option(
      '--drain-deadline-ms <ms>',
      'on stop, how long running operations may finish before they are cancelled (default 60000)',
    )
    .action(async (opts: WorkerFlags) => {
      const { Worker, parseScriptPodsConfig, parseWorkerConfig, workerConfigFromEnv } =
        await import('@longshore/worker');
      const env = workerConfigFromEnv(process.env);
      const name = opts.name ?? env.name ?? (process.env.HOSTNAME || 'worker');
      const kubernetes =
        opts.executor === 'kubernetes' ? kubernetesSettings(opts, name, parseScriptPodsConfig) : undefined;
      const flags = {
        serverUrl: opts.server,
        serverThumbprint: opts.serverThumbprint,
        registrationToken: opts.registrationToken,
        maxConcurrentOperations: opts.maxConcurrent,
        drainDeadlineMs: opts.drainDeadlineMs,
        healthPort: opts.healthPort,
      };
      const config = parseWorkerConfig({
        maxConcurrentOperations: kubernetes?.scriptPods.maxConcurrentOperations ?? 4,
        ...env,
        ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
        name,
        executor: opts.executor,
        dataDir: opts.data,
      });
      const worker = new Worker(config, {
        log: pino({ name: 'longshore-worker' }),
        ...(kubernetes ? { executorSettings: { kubernetes } } : {}),
      });
      await runUntilSignal('worker', () => worker.stop(), worker.start());
    });
}

interface WorkerFlags {
  server?: string;
  serverThumbprint?: string;
  registrationToken?: string;
  name?: string;
  executor: string;
  maxConcurrent?: string;
  healthPort?: string;
  data: string;
  drainDeadlineMs: string;
  kubeconfig?: string;
  namespace?: string;
  scriptPods?: string;
  credentialSecret?: string;
}

const IN_CLUSTER_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The kubernetes executor's settings: the script pod file the chart renders, plus where this worker runs. */
function kubernetesSettings(
  opts: WorkerFlags,
  workerName: string,
  parse: (input: unknown) => ScriptPodsConfig,
): KubernetesSettings {
  const inCluster = opts.kubeconfig === undefined;
  const namespace = opts.namespace ?? (inCluster ? readText(IN_CLUSTER_NAMESPACE).trim() : 'default');
  const settings: unknown = opts.scriptPods ? readYamlFile(opts.scriptPods, 'CONFIG_INVALID') : {};
  return {
    kubeconfigPath: opts.kubeconfig,
    namespace,
    scriptPods: parse({ ...(settings as object), namespace, workerName }),
    credentialSecret: opts.credentialSecret,
  };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new LongshoreError('CONFIG_INVALID', `Cannot read ${path}: ${(e as Error).message}`);
  }
}

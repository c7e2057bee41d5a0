import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import { LongshoreError } from '@longshore/protocol';
import type {
  CredentialStore,
  HttpAgentChannel,
  KubernetesExecutor,
  ScriptPodsConfig,
  WorkerConfig,
  WorkerMetrics,
} from '@longshore/worker';
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
      const { HttpAgentChannel, Worker, WorkerMetrics, parseScriptPodsConfig, parseWorkerConfig, workerConfigFromEnv } =
        await import('@longshore/worker');
      const env = workerConfigFromEnv(process.env);
      const name = opts.name ?? env.name ?? (process.env.HOSTNAME || 'worker');
      const kubernetes =
        opts.executor === 'kubernetes' ? scriptPodSettings(opts, name, parseScriptPodsConfig) : undefined;
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
      const log = pino({ name: 'longshore-worker' });
      const metrics = new WorkerMetrics();
      // One channel, shared with the Kubernetes executor: package tokens are asked for with the worker's credential.
      const channel = new HttpAgentChannel({
        serverUrl: config.serverUrl,
        serverThumbprint: config.serverThumbprint,
        requestTimeoutMs: config.requestTimeoutMs,
        downloadTimeoutMs: config.downloadTimeoutMs,
      });
      const parts = kubernetes ? await kubernetesParts(kubernetes, opts, config, log, metrics, channel) : undefined;
      const executor = parts?.executor;
      const worker = new Worker(config, { log, metrics, channel, ...parts });
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

interface KubernetesSettings {
  inCluster: boolean;
  namespace: string;
  scriptPods: ScriptPodsConfig;
}

/** Script pod settings from the file the chart renders, plus where this worker runs. */
function scriptPodSettings(
  opts: WorkerFlags,
  workerName: string,
  parse: (input: unknown) => ScriptPodsConfig,
): KubernetesSettings {
  const inCluster = opts.kubeconfig === undefined;
  const namespace = opts.namespace ?? (inCluster ? readText(IN_CLUSTER_NAMESPACE).trim() : 'default');
  const settings: unknown = opts.scriptPods ? readYamlFile(opts.scriptPods, 'CONFIG_INVALID') : {};
  return { inCluster, namespace, scriptPods: parse({ ...(settings as object), namespace, workerName }) };
}

/** The one place a worker's Kubernetes client is made: in-cluster, or from a kubeconfig. */
async function kubernetesParts(
  settings: KubernetesSettings,
  opts: WorkerFlags,
  config: WorkerConfig,
  log: Logger,
  metrics: WorkerMetrics,
  channel: HttpAgentChannel,
): Promise<{
  executor: KubernetesExecutor;
  credentials?: CredentialStore;
  describe: () => Promise<Record<string, string>>;
}> {
  const [
    { ChannelPackageTokenIssuer, KubernetesExecutor, SecretCredentialStore },
    { ClientNodeKubeApi, kubeConfigFor },
  ] = await Promise.all([import('@longshore/worker'), import('@longshore/worker/kubernetes-client')]);
  const { inCluster, namespace, scriptPods } = settings;
  const kubeConfig = kubeConfigFor({ inCluster, ...(opts.kubeconfig ? { kubeconfigPath: opts.kubeconfig } : {}) });
  const api = new ClientNodeKubeApi(kubeConfig, namespace, { timeoutMs: scriptPods.apiTimeoutMs });
  const executor = new KubernetesExecutor({
    api,
    config: scriptPods,
    workspace: { workerName: config.name, serverUrl: config.serverUrl },
    server: {
      url: config.serverUrl,
      // A pinned server's certificate is what script pods trust; the channel has it once it has talked to the server, which is before any pod is made.
      get caPem() {
        return config.serverThumbprint ? channel.serverCertificate?.toString() : undefined;
      },
    },
    packageTokens: new ChannelPackageTokenIssuer(channel),
    metrics,
    log,
  });
  const describe = async (): Promise<Record<string, string>> => {
    const clusterVersion = await api.serverVersion().catch((err: unknown) => {
      log.warn({ err }, 'cannot read the Kubernetes version; registering without it');
      return 'unknown';
    });
    const chartVersion = process.env.LONGSHORE_CHART_VERSION;
    return { namespace, clusterVersion, ...(chartVersion ? { chartVersion } : {}) };
  };
  return {
    executor,
    describe,
    ...(opts.credentialSecret ? { credentials: new SecretCredentialStore(api, opts.credentialSecret) } : {}),
  };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new LongshoreError('CONFIG_INVALID', `Cannot read ${path}: ${(e as Error).message}`);
  }
}

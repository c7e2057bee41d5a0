import { LongshoreError } from '@longshore/protocol';
import type { ExecutorProvider } from '../executorProvider.js';
import type { ScriptPodsConfig } from './scriptPodsConfig.js';

/** Where the Kubernetes executor runs its script pods, and how. */
export interface KubernetesSettings {
  /** Default: the in-cluster ServiceAccount. */
  kubeconfigPath?: string | undefined;
  namespace: string;
  scriptPods: ScriptPodsConfig;
  /** Keep the worker's credential in this Secret of the namespace instead of the data directory. */
  credentialSecret?: string | undefined;
}

/** Each operation in its own script pod. */
export const kubernetesExecutorProvider: ExecutorProvider<'kubernetes', KubernetesSettings> = {
  kind: 'kubernetes',
  async create(config, { channel, log, metrics, settings }) {
    if (!settings) {
      throw new LongshoreError(
        'CONFIG_INVALID',
        '/executor: the kubernetes executor needs its cluster and script pod settings',
      );
    }
    // Loaded here only: @kubernetes/client-node is about 70 MiB once loaded, and a local worker has no use for it.
    const [
      { ClientNodeKubeApi, kubeConfigFor },
      { KubernetesExecutor },
      { ChannelPackageTokenIssuer },
      { SecretCredentialStore },
    ] = await Promise.all([
      import('./clientNodeKubeApi.js'),
      import('./kubernetesExecutor.js'),
      import('./channelPackageTokenIssuer.js'),
      import('./secretCredentialStore.js'),
    ]);
    const { kubeconfigPath, namespace, scriptPods, credentialSecret } = settings;
    const kubeConfig = kubeConfigFor(
      kubeconfigPath === undefined ? { inCluster: true } : { inCluster: false, kubeconfigPath },
    );
    const api = new ClientNodeKubeApi(kubeConfig, namespace, { timeoutMs: scriptPods.apiTimeoutMs });
    // Set by the chart: what the server's upgrade of this worker runs helm upgrade on.
    const chartVersion = process.env.LONGSHORE_CHART_VERSION;
    const helmRelease = process.env.LONGSHORE_HELM_RELEASE;
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
      chartVersion,
    });
    const describe = async (): Promise<Record<string, string>> => {
      const clusterVersion = await api.serverVersion().catch((err: unknown) => {
        log.warn({ err }, 'cannot read the Kubernetes version; registering without it');
        return 'unknown';
      });
      return {
        namespace,
        clusterVersion,
        // How long this worker drains when its pod is replaced: an upgrade waits that long more for the new one.
        drainDeadlineSeconds: String(Math.ceil(config.drainDeadlineMs / 1000)),
        ...(chartVersion ? { chartVersion } : {}),
        ...(helmRelease ? { helmRelease } : {}),
      };
    };
    return {
      executor,
      describe,
      ...(credentialSecret ? { credentials: new SecretCredentialStore(api, credentialSecret) } : {}),
    };
  },
};

// The worker's public API: what the CLI starts, and the pieces the Kubernetes executor reuses
// (bootstrap, workspace, output parser, log shipper, packages).
export { Worker, startWorker, type Readiness, type WorkerDependencies } from './worker.js';
export { WorkerMetrics } from './health/workerMetrics.js';
export {
  WORKER_ENV_SETTINGS,
  WorkerConfig,
  parseWorkerConfig,
  redactWorkerConfig,
  workerConfigFromEnv,
} from './workerConfig.js';
export type { WorkerState } from './lifecycle.js';
export { FileCredentialStore, credentialPath, type CredentialStore, type StoredCredential } from './credential.js';
export { SecretCredentialStore } from './executors/kubernetes/secretCredentialStore.js';
export { HttpAgentChannel, type AgentChannel, type HttpAgentChannelOptions } from './serverClient.js';
export { dockerRejection, rejected, type Executor, type OperationSink } from './executors/executor.js';
export { LocalExecutor, type LocalExecutorOptions } from './executors/local/localExecutor.js';
export { BOOTSTRAP_FILE, BOOTSTRAP_SCRIPT, bootstrapCommand } from './bootstrap/bootstrapScript.js';
export { SCRIPT_FUNCTIONS, SCRIPT_FUNCTIONS_FILE } from './bootstrap/scriptFunctions.js';
export {
  SYSTEM_VARIABLES,
  operationSecrets,
  stageWorkspace,
  type WorkspaceContext,
  type WorkspaceFiles,
} from './workspace.js';
export {
  BootstrapOutput,
  LineSplitter,
  MAX_LINE_LENGTH,
  type BootstrapOutputHandler,
  type BootstrapOutputOptions,
  type LogLevel,
} from './bootstrapOutput.js';
export { LogShipper, type LogShipperOptions } from './logShipper.js';
export { installPackage } from './packages.js';
export { Backoff, isTransient, keepTrying, type BackoffOptions, type KeepTryingOptions } from './retry.js';
export {
  KubernetesExecutor,
  type KubernetesExecutorOptions,
  type PackageTokenIssuer,
} from './executors/kubernetes/kubernetesExecutor.js';
// The Kubernetes client itself (@kubernetes/client-node, ~70 MiB once loaded) is the
// `@longshore/worker/kubernetes-client` entry: only a worker with --executor kubernetes loads it.
export type {
  CallOptions,
  KubeApi,
  PodLogOptions,
  PodOwner,
  WatchHandle,
  WatchHandler,
} from './executors/kubernetes/kubeApi.js';
export { ScriptPodsConfig, parseScriptPodsConfig } from './executors/kubernetes/scriptPodsConfig.js';
export {
  buildScriptPod,
  isScriptPodRejection,
  scriptPodResources,
  type PackageAccess,
  type ServerInfo,
} from './executors/kubernetes/scriptPodSpec.js';
export {
  ChannelPackageTokenIssuer,
  type ChannelPackageTokenIssuerOptions,
} from './executors/kubernetes/channelPackageTokenIssuer.js';

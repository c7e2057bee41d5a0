// The worker's public API: what the CLI starts and configures, and the script pod spec the chart's tests check.
// The executors are chosen by config.executor through executors/registry.ts; the Kubernetes one loads its client
// (@kubernetes/client-node) only when chosen.
export { Worker, startWorker } from './worker.js';
export { WORKER_ENV_SETTINGS, WorkerConfig, parseWorkerConfig, workerConfigFromEnv } from './workerConfig.js';
export { credentialPath } from './credential.js';
export { stageWorkspace } from './workspace.js';
export type { KubernetesSettings } from './executors/kubernetes/kubernetesProvider.js';
export { parseScriptPodsConfig, type ScriptPodsConfig } from './executors/kubernetes/scriptPodsConfig.js';
export { buildScriptPod } from './executors/kubernetes/scriptPodSpec.js';
export { WORKER_RULES, type PermissionRule } from './executors/kubernetes/workerPermissions.js';

// @longshore/sandbox: a Kubernetes API server in one process, for tests and the demo.
export { startSandbox, kubeconfigYaml, type Sandbox, type SandboxOptions } from './sandbox.js';
export {
  parseSandboxConfig,
  loadSandboxConfig,
  redactConfig,
  DEFAULT_CONFIG,
  type SandboxConfig,
  type ControllersConfig,
  type StaticTokenConfig,
} from './config/sandboxConfig.js';
export { AuditLog, type AuditEntry } from './audit/auditLog.js';
export { ApiError } from './errors.js';
export { KubeClient, apiPath, type ClientConfig, type K8sObject } from './client/kubeClient.js';
export type { PodLogSource } from './http/context.js';
export { generateCertificates, type ServingCertificates } from './certs/certificates.js';
export { startCluster, DEFAULT_WORKER_ENTRY, type SandboxCluster, type ClusterOptions } from './cluster.js';
export { startControllers, type ControllerSet } from './controllers/manager.js';
export {
  DEFAULT_CLUSTER,
  type ClusterConfig,
  type NodeGroupSettings,
  type ImageSettings,
} from './config/clusterConfig.js';
export { containerProcessStats } from './nodes/container.js';
export { KubeletServer } from './nodes/kubeletServer.js';
export { LogStore } from './nodes/logStore.js';
export {
  StreamRefused,
  type ContainerStreams,
  type StreamExit,
  type StreamOptions,
  type StreamSession,
  type StreamTarget,
} from './nodes/containerStreams.js';
export { PortForwardFailed } from './nodes/nodeStreams.js';

// startSandbox(): certificates, storage, the HTTPS API server, bootstrap objects (system
// namespaces, default RBAC), a kubeconfig, and the controllers, which reach the server over
// HTTPS with their own token like any client.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LongshoreError } from '@longshore/protocol';
import { AuditLog } from './audit/auditLog.js';
import { TokenAuthority } from './auth/tokens.js';
import { generateCertificates } from './certs/certificates.js';
import { KubeClient } from './client/kubeClient.js';
import { parseSandboxConfig, type SandboxConfig } from './config/sandboxConfig.js';
import type { ClusterConfig } from './config/clusterConfig.js';
import { startCluster, type SandboxCluster } from './cluster.js';
import { startControllers, type ControllerSet } from './controllers/manager.js';
import type { PodLogSource, ServerContext } from './http/context.js';
import { ApiServer } from './http/server.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './rbac/bootstrap.js';
import { storeRbacSource } from './rbac/storeSource.js';
import { findResource } from './resources/registry.js';
import { RestStorage } from './storage/rest.js';
import { ObjectStore } from './storage/store.js';
import { WatchRegistry } from './watch/watchStream.js';

export type SandboxOptions = Partial<Omit<SandboxConfig, 'cluster'>> & {
  /** Scheduler, nodes and autoscaler settings; omitted fields take their defaults. */
  cluster?: Partial<ClusterConfig>;
  /** Serves pods/log in process; without it pods/log goes to the node's kubelet endpoint. */
  logs?: PodLogSource;
};

export interface Sandbox {
  /** https://host:port */
  server: string;
  caPem: string;
  adminToken: string;
  kubeconfigPath: string;
  kubeconfig: string;
  audit: AuditLog;
  config: SandboxConfig;
  /** The scheduler, virtual nodes and autoscaler (absent with cluster.enabled false). */
  cluster?: SandboxCluster;
  /** Forget the write history: watches and exact lists from older resourceVersions answer 410. */
  compactHistory(): Promise<void>;
  stop(): Promise<void>;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export function kubeconfigYaml(name: string, server: string, caPem: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${name}`,
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`,
    'users:',
    `- name: ${name}-admin`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}-admin`,
    '    namespace: default',
    '',
  ].join('\n');
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const { logs, ...rest } = options;
  const config = parseSandboxConfig(rest);
  const certs = await generateCertificates(config.certificateHosts);
  const store = new ObjectStore({ historySize: config.historySize });
  const restStorage = new RestStorage(store);
  const tokens = new TokenAuthority();
  const adminToken = config.adminToken ?? randomBytes(24).toString('hex');
  tokens.addStaticToken(adminToken, {
    username: 'admin',
    uid: 'admin-uid',
    groups: ['system:masters', 'system:authenticated'],
  });
  const controllerToken = randomBytes(24).toString('hex');
  tokens.addStaticToken(controllerToken, {
    username: 'system:kube-controller-manager',
    groups: ['system:masters', 'system:authenticated'],
  });
  for (const t of config.tokens)
    tokens.addStaticToken(t.token, { username: t.user, groups: [...(t.groups ?? []), 'system:authenticated'] });

  for (const name of SYSTEM_NAMESPACES)
    restStorage.create(findResource('', 'v1', 'namespaces')!, undefined, { metadata: { name } });
  for (const o of bootstrapClusterRoles())
    restStorage.create(findResource('rbac.authorization.k8s.io', 'v1', 'clusterroles')!, undefined, o);
  for (const o of bootstrapClusterRoleBindings())
    restStorage.create(findResource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings')!, undefined, o);

  const audit = new AuditLog();
  const ctx: ServerContext = {
    store,
    rest: restStorage,
    watches: new WatchRegistry(store),
    tokens,
    rbac: storeRbacSource(store),
    audit,
    serverAddress: '',
    bookmarkIntervalMs: config.bookmarkIntervalMs,
    ...(logs ? { logs } : {}),
  };
  const api = new ApiServer(ctx, { key: certs.keyPem, cert: certs.certPem });
  let port: number;
  try {
    port = await api.listen(config.host, config.port);
  } catch (err) {
    throw new LongshoreError(
      'LISTEN_FAILED',
      `the sandbox cannot listen on ${config.host}:${config.port}: ${String(err)}`,
      undefined,
      { cause: err },
    );
  }
  const hostForUrl =
    config.host === '0.0.0.0' || config.host === '::'
      ? '127.0.0.1'
      : config.host.includes(':')
        ? `[${config.host}]`
        : config.host;
  const server = `https://${hostForUrl}:${port}`;
  ctx.serverAddress = `${hostForUrl}:${port}`;

  const kubeconfig = kubeconfigYaml(config.contextName, server, certs.caPem, adminToken);
  let tempDir: string | undefined;
  let kubeconfigPath = config.kubeconfigPath;
  if (!kubeconfigPath) {
    tempDir = mkdtempSync(join(tmpdir(), 'longshore-sandbox-'));
    kubeconfigPath = join(tempDir, 'kubeconfig');
  } else {
    mkdirSync(dirname(kubeconfigPath), { recursive: true });
  }
  writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });

  const client = new KubeClient({
    server,
    caPem: certs.caPem,
    token: controllerToken,
    userAgent: 'longshore-sandbox-controller-manager',
  });
  const controllers: ControllerSet = startControllers(client, config.controllers, certs.caPem);
  let cluster: SandboxCluster | undefined;
  if (config.cluster.enabled) {
    try {
      cluster = await startCluster({ server, caPem: certs.caPem, token: controllerToken, config: config.cluster });
    } catch (err) {
      await controllers.stop();
      client.close();
      await api.close();
      throw new LongshoreError('CLUSTER_START_FAILED', `the sandbox's nodes did not start: ${String(err)}`, undefined, {
        cause: err,
      });
    }
  }

  let stopped = false;
  return {
    server,
    caPem: certs.caPem,
    adminToken,
    kubeconfigPath,
    kubeconfig,
    audit,
    config,
    ...(cluster ? { cluster } : {}),
    async compactHistory() {
      store.compact();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await cluster?.stop();
      await controllers.stop();
      client.close();
      await api.close();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

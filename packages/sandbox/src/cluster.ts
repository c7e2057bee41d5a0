// The cluster half of the sandbox: the scheduler, the virtual nodes of each node group and the
// node autoscaler, all API clients of a server given by URL and token, so the same code
// attaches to the sandbox's own API server or to a real kube-apiserver.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeAutoscaler, NODE_GROUP_LABEL, type NodeGroupConfig } from './autoscaler/autoscaler.js';
import { generateCertificates } from './certs/certificates.js';
import { KubeClient } from './client/kubeClient.js';
import { DEFAULT_CLUSTER, type ClusterConfig } from './config/clusterConfig.js';
import { EventRecorder } from './controllers/events.js';
import { detectCgroups, type CgroupDriver } from './nodes/cgroups.js';
import type { ContainerRuntimeKind } from './nodes/containerRuntime.js';
import { defaultImageTable, withConfiguredImages, type ImageTable } from './nodes/images.js';
import { CONTAINER_ENGINES, programView } from './nodes/programView.js';
import { selectContainerRuntime } from './nodes/runtimeSelection.js';
import { VirtualNode } from './nodes/virtualNode.js';
import { Scheduler } from './scheduler/scheduler.js';
import { ServiceProxy } from './services/serviceProxy.js';

export interface ClusterOptions {
  /** The API server: https://host:port, its CA and a token allowed everything the controllers do. */
  server: string;
  caPem: string;
  token: string;
  config?: ClusterConfig;
}

export interface SandboxCluster {
  /** Names of the virtual nodes running now. */
  nodeNames(): string[];
  node(name: string): VirtualNode | undefined;
  /** How containers are limited on this host ('none' with the reason when they cannot be). */
  cgroups: { kind: string; reason?: string };
  /** How containers get their mounts: bubblewrap, unshare, or 'none' with what to install. */
  containerRuntime: { kind: ContainerRuntimeKind; reason?: string };
  stop(opts?: { deleteNodes?: boolean }): Promise<void>;
}

/** This repository's worker build: the default command of image longshore/worker. */
export const DEFAULT_WORKER_ENTRY = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));

export async function startCluster(o: ClusterOptions): Promise<SandboxCluster> {
  const config = o.config ?? DEFAULT_CLUSTER;
  const url = new URL(o.server);
  const apiPort = Number(url.port || 443);
  const apiHost = url.hostname.replace(/^\[|\]$/g, '');
  const client = new KubeClient({
    server: o.server,
    caPem: o.caPem,
    token: o.token,
    userAgent: 'longshore-sandbox-cluster',
  });
  const tls = await generateCertificates(['127.0.0.1', 'localhost']);
  const cgroups: CgroupDriver = detectCgroups(`longshore-sandbox-${process.pid}`, config.cgroups);
  const containerRuntime = selectContainerRuntime(config.containerRuntime);
  const binDir = mkdtempSync(join(tmpdir(), 'longshore-sandbox-bin-'));
  const path = programView(binDir, process.env.PATH ?? '', CONTAINER_ENGINES);
  const images: ImageTable = withConfiguredImages(
    defaultImageTable(config.workerEntry ?? DEFAULT_WORKER_ENTRY, path),
    config.images,
  );
  const nodes = new Map<string, VirtualNode>();
  const events = new EventRecorder(client, 'kubelet');
  const serviceProxy = new ServiceProxy(
    client,
    join(tmpdir(), `longshore-services-${process.pid}-${Math.random().toString(36).slice(2, 7)}`),
  );
  serviceProxy.start();

  let nodesMade = 0;
  const createNode = async (g: NodeGroupConfig, name: string): Promise<void> => {
    const node = new VirtualNode(client, {
      podCIDR: `10.244.${nodesMade++ % 256}.0/24`,
      node: {
        name,
        cpu: g.cpu,
        memory: g.memory,
        pods: g.pods,
        labels: { ...g.labels, [NODE_GROUP_LABEL]: g.name },
        taints: g.taints,
      },
      images,
      apiHost,
      apiPort,
      caPem: o.caPem,
      tls: { key: tls.keyPem, cert: tls.certPem },
      cgroups,
      restartBackoffMs: config.restartBackoffMs,
      restartBackoffMaxMs: config.restartBackoffMaxMs,
      containerRuntime,
      hostsFile: (namespace) => serviceProxy.hostsFile(namespace),
    });
    nodes.set(name, node);
    try {
      await node.start();
    } catch (err) {
      nodes.delete(name);
      await node.stop({ deleteNode: true });
      throw err;
    }
    const warn = (reason: string, message: string): Promise<void> =>
      events.record(
        { apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name, namespace: 'default' } },
        'Warning',
        reason,
        message,
      );
    // A node says at start what it cannot do, as a kubelet reports a degraded runtime.
    if (cgroups.kind === 'none')
      await warn('CgroupsUnavailable', `containers run without resource limits: ${cgroups.reason ?? 'no cgroups'}`);
    if (containerRuntime.kind === 'none')
      await warn(
        'ContainerRuntimeUnavailable',
        `containers with volume mounts cannot start: ${containerRuntime.reason ?? ''}`,
      );
  };
  const removeNode = async (name: string): Promise<void> => {
    const n = nodes.get(name);
    nodes.delete(name);
    await n?.stop({ deleteNode: true });
  };

  const scheduler = new Scheduler(client);
  scheduler.start();
  const suffix = (): string => Math.random().toString(36).slice(2, 7);
  for (const g of config.nodeGroups)
    for (let i = 0; i < g.min; i++)
      await createNode(g, g.max === g.min && g.min === 1 ? `sandbox-${g.name}` : `${g.name}-${suffix()}`);
  const autoscaler = new NodeAutoscaler(
    client,
    config.nodeGroups,
    { create: createNode, remove: removeNode },
    config.autoscaler,
  );
  autoscaler.start();

  let stopped = false;
  return {
    nodeNames: () => [...nodes.keys()],
    node: (name) => nodes.get(name),
    cgroups: { kind: cgroups.kind, ...(cgroups.reason ? { reason: cgroups.reason } : {}) },
    containerRuntime: {
      kind: containerRuntime.kind,
      ...(containerRuntime.reason ? { reason: containerRuntime.reason } : {}),
    },
    async stop(opts = {}) {
      if (stopped) return;
      stopped = true;
      autoscaler.stop();
      scheduler.stop();
      await Promise.all(
        [...nodes.values()].map((n) => n.stop({ deleteNode: opts.deleteNodes ?? false, graceSeconds: 1 })),
      );
      nodes.clear();
      serviceProxy.stop();
      cgroups.close();
      client.close();
      rmSync(binDir, { recursive: true, force: true });
    },
  };
}

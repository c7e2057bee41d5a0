// What a virtual node gives each of its pod workers: the API client, the image table, the
// log store, cgroups, and the calls a kubelet makes for a pod (objects for env and volumes,
// ServiceAccount tokens, the in-cluster environment).
import { readFileSync } from 'node:fs';
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import type { EventRecorder } from '../controllers/events.js';
import type { CgroupDriver, CgroupUsage } from './cgroups.js';
import type { ContainerRuntime } from './containerRuntime.js';
import type { Obj } from './env.js';
import type { ImageTable } from './images.js';
import type { LogStore } from './logStore.js';

export interface NodeRuntime {
  client: KubeClient;
  nodeName: string;
  hostIP: string;
  images: ImageTable;
  logs: LogStore;
  cgroups: CgroupDriver;
  podsDir: string;
  caPem: string;
  events: EventRecorder;
  restartBackoffMs: number;
  restartBackoffMaxMs: number;
  containerRuntime: ContainerRuntime;
  hostsFile(namespace: string): string;
  /** The next address of the node's podCIDR. */
  nextPodIP(): string;
  baseEnv(pod: K8sObject): Record<string, string>;
  getObject(resource: 'secrets' | 'configmaps', namespace: string, name: string): Promise<Obj | undefined>;
  requestToken(pod: K8sObject, audience: string | undefined, expirationSeconds: number): Promise<string>;
  procUsage(pid: number): CgroupUsage | undefined;
}

/** The in-cluster environment every container gets (what the service links of `kubernetes` give). */
export function inClusterEnv(apiHost: string, apiPort: number, pod: K8sObject): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: pod.metadata.name,
    HOME: '/root',
    KUBERNETES_SERVICE_HOST: apiHost,
    KUBERNETES_SERVICE_PORT: String(apiPort),
    KUBERNETES_SERVICE_PORT_HTTPS: String(apiPort),
    KUBERNETES_PORT: `tcp://${apiHost}:${apiPort}`,
    KUBERNETES_PORT_443_TCP: `tcp://${apiHost}:${apiPort}`,
    KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_ADDR: apiHost,
    KUBERNETES_PORT_443_TCP_PORT: String(apiPort),
  };
}

export async function getObject(
  client: KubeClient,
  resource: 'secrets' | 'configmaps',
  namespace: string,
  name: string,
): Promise<Obj | undefined> {
  const r = await client.request<Obj>('GET', apiPath('v1', resource, namespace, name));
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`get ${resource} ${namespace}/${name}: HTTP ${r.status}`);
  return r.body;
}

export async function requestPodToken(
  client: KubeClient,
  pod: K8sObject,
  audience: string | undefined,
  expirationSeconds: number,
): Promise<string> {
  const sa = String(((pod.spec ?? {}) as Obj).serviceAccountName ?? 'default');
  const r = await client.request<{ status?: { token?: string } }>(
    'POST',
    apiPath('v1', 'serviceaccounts', pod.metadata.namespace, sa, 'token'),
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        ...(audience ? { audiences: [audience] } : {}),
        expirationSeconds: Math.max(600, expirationSeconds),
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    },
  );
  const token = r.body.status?.token;
  if (r.status !== 201 || !token) throw new Error(`TokenRequest for ${pod.metadata.namespace}/${sa}: HTTP ${r.status}`);
  return token;
}

const TICKS = 100; // USER_HZ on Linux
/** CPU and RSS of a process from /proc, for containers that run without a cgroup. */
export function procUsage(pid: number): CgroupUsage | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuNanos = ((Number(fields[11]) + Number(fields[12])) / TICKS) * 1e9;
    const rssPages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return { cpuNanos, memoryBytes: rssPages * 4096 };
  } catch {
    return undefined;
  }
}

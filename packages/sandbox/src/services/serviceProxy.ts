// How pods reach Services, where pods share the host's network and no packet filter can be set
// up: the sandbox's kube-proxy and cluster DNS in one controller, an API client like the others.
//
// - Each Service with a cluster IP gets a loopback address of its own (10.0.0.23 -> 127.<b>.0.23,
//   with a block <b> drawn per proxy so that sandboxes on one machine rarely meet; Linux answers
//   on all of 127.0.0.0/8 without configuration). On it, one TCP listener per
//   Service port forwards each connection to a ready endpoint of its EndpointSlices, picked in
//   turn, at its resolved target port on its node's address: a pod's IP names it, but the pod
//   runs in its node's network. With no endpoint ready the connection is closed.
// - Names resolve through an /etc/hosts per namespace that the virtual nodes bind read-only
//   into every container: `<svc>.<ns>.svc.cluster.local`, `<svc>.<ns>.svc`, `<svc>.<ns>`, and
//   `<svc>` for Services of the pod's own namespace, map to the Service's loopback address (a
//   headless Service's to its first ready endpoint's node), after the host's own entries (the
//   pods share its network, so its names stay theirs). Files are rewritten in place, never
//   replaced, so running containers see new Services through their bind mount.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { EventRecorder } from '../controllers/events.js';
import { Informer, keyOf } from '../controllers/informer.js';
import { SERVICE_NAME_LABEL } from './serviceEndpoints.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

export const CLUSTER_DOMAIN = 'cluster.local';

/** The loopback address a Service's cluster IP is served on, in the proxy's block (100-227). */
export function loopbackFor(clusterIP: string, block: number): string {
  const [, , c, d] = clusterIP.split('.');
  return `127.${block}.${c ?? 0}.${d ?? 0}`;
}

/** The hosts file of one namespace: the host's entries, then the Services with an address for each. */
export function hostsFileText(
  namespace: string,
  hostEntries: string,
  entries: readonly { namespace: string; name: string; address: string }[],
): string {
  const lines = [hostEntries.trimEnd(), "# The sandbox's Services."];
  for (const e of entries) {
    const fq = `${e.name}.${e.namespace}`;
    const names = [`${fq}.svc.${CLUSTER_DOMAIN}`, `${fq}.svc`, fq, ...(e.namespace === namespace ? [e.name] : [])];
    lines.push(`${e.address}\t${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

interface Listener {
  server: Server;
  serviceKey: string;
  portName: string;
}

export class ServiceProxy {
  private readonly services: Informer;
  private readonly slices: Informer;
  private readonly nodes: Informer;
  /** "address:port" -> its listener. */
  private readonly listeners = new Map<string, Listener>();
  private readonly turn = new Map<string, number>();
  private readonly namespaces = new Set<string>();
  private stopped = false;
  private readonly events: EventRecorder;
  private readonly hostEntries: string;
  private readonly block = 100 + Math.floor(Math.random() * 128);

  constructor(
    client: KubeClient,
    private readonly hostsDir: string,
  ) {
    this.events = new EventRecorder(client, 'kube-proxy');
    try {
      this.hostEntries = readFileSync('/etc/hosts', 'utf8');
    } catch {
      this.hostEntries = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';
    }
    this.services = new Informer(client, apiPath('v1', 'services')).on(() => this.refresh());
    this.slices = new Informer(client, apiPath('discovery.k8s.io/v1', 'endpointslices')).on(() =>
      this.writeHostsFiles(),
    );
    this.nodes = new Informer(client, apiPath('v1', 'nodes'));
  }

  start(): void {
    mkdirSync(this.hostsDir, { recursive: true });
    this.services.start();
    this.slices.start();
    this.nodes.start();
  }

  stop(): void {
    this.stopped = true;
    this.services.stop();
    this.slices.stop();
    this.nodes.stop();
    for (const l of this.listeners.values()) l.server.close();
    this.listeners.clear();
    rmSync(this.hostsDir, { recursive: true, force: true });
  }

  /** The hosts file for containers of `namespace` (made now if it is the first such container). */
  hostsFile(namespace: string): string {
    const path = join(this.hostsDir, namespace);
    this.namespaces.add(namespace);
    if (!existsSync(path)) writeFileSync(path, hostsFileText(namespace, this.hostEntries, this.entries()));
    return path;
  }

  private refresh(): void {
    if (this.stopped) return;
    const wanted = new Map<string, { serviceKey: string; portName: string }>();
    for (const s of this.services.list()) {
      const spec = obj(s.spec);
      const ip = String(spec.clusterIP ?? '');
      if (!ip || ip === 'None' || spec.type === 'ExternalName') continue;
      for (const p of arr(spec.ports)) {
        if (String(p.protocol ?? 'TCP') !== 'TCP') continue;
        wanted.set(`${loopbackFor(ip, this.block)}:${Number(p.port)}`, {
          serviceKey: keyOf(s),
          portName: String(p.name ?? ''),
        });
      }
    }
    for (const [at, l] of this.listeners) {
      const w = wanted.get(at);
      if (!w || w.serviceKey !== l.serviceKey || w.portName !== l.portName) {
        l.server.close();
        this.listeners.delete(at);
      }
    }
    for (const [at, w] of wanted) if (!this.listeners.has(at)) this.listen(at, w.serviceKey, w.portName);
    this.writeHostsFiles();
  }

  private listen(at: string, serviceKey: string, portName: string): void {
    const [host, port] = at.split(':') as [string, string];
    const server = createServer((socket) => this.forward(socket, serviceKey, portName));
    // A port below 1024 without root (net.ipv4.ip_unprivileged_port_start), or one a host
    // process holds on that address: the Service port is unreachable, as with a kube-proxy that
    // cannot program its rules. The Service's events say why; its next change retries.
    server.on('error', (err) => {
      if (this.listeners.get(at)?.server === server) this.listeners.delete(at);
      const service = this.services.get(serviceKey);
      if (service)
        void this.events.record(
          { ...service, apiVersion: 'v1', kind: 'Service' },
          'Warning',
          'ServicePortUnavailable',
          `cannot serve port ${port} on ${host}: ${err.message}`,
        );
    });
    server.listen(Number(port), host);
    this.listeners.set(at, { server, serviceKey, portName });
  }

  /** Ready endpoints of a Service port, as "address:port". */
  private backends(serviceKey: string, portName: string): string[] {
    const [ns, name] = serviceKey.split('/') as [string, string];
    const out: string[] = [];
    for (const slice of this.slices.list()) {
      if (slice.metadata.namespace !== ns || obj(slice.metadata.labels)[SERVICE_NAME_LABEL] !== name) continue;
      const port = arr(slice.ports).find((p) => String(p.name ?? '') === portName)?.port;
      if (port === undefined) continue;
      for (const e of arr(slice.endpoints))
        if (obj(e.conditions).ready !== false) out.push(`${this.reachableAt(e)}:${Number(port)}`);
    }
    return out;
  }

  private forward(client: Socket, serviceKey: string, portName: string): void {
    const backends = this.backends(serviceKey, portName);
    if (!backends.length) {
      client.destroy();
      return;
    }
    const n = this.turn.get(serviceKey) ?? 0;
    this.turn.set(serviceKey, n + 1);
    const [host, port] = backends[n % backends.length]!.split(':') as [string, string];
    const upstream = createConnection({ host, port: Number(port) });
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  }

  private entries(): { namespace: string; name: string; address: string }[] {
    const out: { namespace: string; name: string; address: string }[] = [];
    for (const s of this.services.list()) {
      const spec = obj(s.spec);
      const ip = String(spec.clusterIP ?? '');
      const namespace = String(s.metadata.namespace);
      if (spec.type === 'ExternalName' || !ip) continue;
      const address = ip === 'None' ? this.headlessAddress(s) : loopbackFor(ip, this.block);
      if (address) out.push({ namespace, name: s.metadata.name, address });
    }
    return out;
  }

  private headlessAddress(s: K8sObject): string | undefined {
    for (const slice of this.slices.list()) {
      if (
        slice.metadata.namespace !== s.metadata.namespace ||
        obj(slice.metadata.labels)[SERVICE_NAME_LABEL] !== s.metadata.name
      )
        continue;
      const e = arr(slice.endpoints).find((x) => obj(x.conditions).ready !== false);
      if (e) return this.reachableAt(e);
    }
    return undefined;
  }

  /** Where an endpoint answers: its node's InternalIP (pods share their node's network), else its own address. */
  private reachableAt(endpoint: Obj): string {
    const node = endpoint.nodeName ? this.nodes.get(String(endpoint.nodeName)) : undefined;
    const internal = arr(obj(node?.status).addresses).find((a) => a.type === 'InternalIP')?.address;
    return String(internal ?? ((endpoint.addresses ?? []) as string[])[0]);
  }

  private writeHostsFiles(): void {
    if (this.stopped) return;
    const entries = this.entries();
    for (const ns of this.namespaces) {
      try {
        writeFileSync(join(this.hostsDir, ns), hostsFileText(ns, this.hostEntries, entries));
      } catch {
        /* the directory went with stop() */
      }
    }
  }
}

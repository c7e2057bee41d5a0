// The garbage collector (pkg/controller/garbagecollector), for the kinds the sandbox serves:
// an object whose owners (ownerReferences) are all gone is deleted; dangling references among
// live ones are removed. Owners deleted with propagationPolicy=Foreground keep the
// `foregroundDeletion` finalizer until their dependents are gone; with Orphan, their
// dependents lose the reference and the `orphan` finalizer is removed.
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { RESOURCES, apiVersionOf } from '../resources/registry.js';
import { Informer, WorkQueue } from './informer.js';
import { ownerRefs, type Obj } from './podUtil.js';

interface Node {
  obj: K8sObject;
  path: string;
}
const MERGE = 'application/merge-patch+json';

const WATCHED = RESOURCES.filter(
  (r) => !r.createOnly && !r.fromNodes && !r.storageOf && r.resource !== 'events' && r.resource !== 'namespaces',
);

export class GarbageCollector {
  private readonly informers: Informer[] = [];
  /** uid → the object and its API path. */
  private readonly byUid = new Map<string, Node>();
  /** owner uid → dependent uids. */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly queue: WorkQueue;

  constructor(private readonly client: KubeClient) {
    this.queue = new WorkQueue((uid) => this.sync(uid));
    for (const def of WATCHED) {
      const inf = new Informer(client, apiPath(apiVersionOf(def), def.resource)).on((type, o) => {
        const uid = o.metadata.uid!;
        const path = apiPath(apiVersionOf(def), def.resource, o.metadata.namespace, o.metadata.name);
        if (type === 'DELETED') {
          this.byUid.delete(uid);
          for (const dep of this.dependents.get(uid) ?? []) this.queue.add(dep);
          for (const r of ownerRefs(o)) {
            this.dependents.get(r.uid)?.delete(uid);
            this.queue.add(r.uid);
          }
          return;
        }
        this.byUid.set(uid, { obj: o, path });
        for (const r of ownerRefs(o)) {
          let s = this.dependents.get(r.uid);
          if (!s) {
            s = new Set();
            this.dependents.set(r.uid, s);
          }
          s.add(uid);
        }
        if (ownerRefs(o).length || o.metadata.deletionTimestamp) this.queue.add(uid);
      });
      this.informers.push(inf);
    }
  }

  start(): void {
    for (const i of this.informers) i.start();
  }
  stop(): void {
    this.queue.stop();
    for (const i of this.informers) i.stop();
  }

  private async sync(uid: string): Promise<void> {
    await Promise.all(this.informers.map((i) => i.hasSynced));
    const node = this.byUid.get(uid);
    if (!node) return;
    const o = node.obj;
    const finalizers = (o.metadata.finalizers ?? []) as string[];
    if (o.metadata.deletionTimestamp && finalizers.includes('orphan')) await this.orphan(node);
    if (o.metadata.deletionTimestamp && finalizers.includes('foregroundDeletion')) await this.foreground(node);
    const refs = ownerRefs(o);
    if (!refs.length) return;
    const live: typeof refs = [];
    let ownerForeground = false;
    for (const r of refs) {
      const owner = await this.ownerState(r, o.metadata.namespace);
      if (owner === 'gone') continue;
      live.push(r);
      if (
        owner.metadata.deletionTimestamp &&
        ((owner.metadata.finalizers ?? []) as string[]).includes('foregroundDeletion')
      )
        ownerForeground = true;
    }
    // Dependents of an owner being deleted in the foreground are deleted by foreground() on the owner.
    if (live.length === 0) {
      if (!o.metadata.deletionTimestamp)
        await this.client.request('DELETE', `${node.path}?propagationPolicy=Background`);
      return;
    }
    void ownerForeground;
    if (live.length < refs.length) {
      await this.client.request(
        'PATCH',
        node.path,
        { metadata: { ownerReferences: live, uid: o.metadata.uid } },
        MERGE,
      );
    }
  }

  /** The owner if it exists with the referenced uid; the cache first, then a GET (it may be of a kind not watched). */
  private async ownerState(
    r: { apiVersion: string; kind: string; name: string; uid: string },
    namespace: string | undefined,
  ): Promise<K8sObject | 'gone'> {
    const cached = this.byUid.get(r.uid);
    if (cached) return cached.obj;
    const [group, version] = r.apiVersion.includes('/')
      ? (r.apiVersion.split('/') as [string, string])
      : ['', r.apiVersion];
    const def = RESOURCES.find((d) => d.group === group && d.version === version && d.kind === r.kind && !d.storageOf);
    if (!def) return 'gone';
    const res = await this.client.request<K8sObject>(
      'GET',
      apiPath(r.apiVersion, def.resource, def.namespaced ? namespace : undefined, r.name),
    );
    if (res.status === 404) return 'gone';
    if (res.status !== 200) throw new Error(`owner ${r.kind}/${r.name}: ${res.status}`);
    return res.body.metadata.uid === r.uid ? res.body : 'gone';
  }

  private async orphan(node: Node): Promise<void> {
    const uid = node.obj.metadata.uid!;
    for (const depUid of [...(this.dependents.get(uid) ?? [])]) {
      const dep = this.byUid.get(depUid);
      if (!dep) continue;
      const refs = ownerRefs(dep.obj).filter((r) => r.uid !== uid);
      await this.client.request('PATCH', dep.path, { metadata: { ownerReferences: refs.length ? refs : null } }, MERGE);
    }
    await this.removeFinalizer(node, 'orphan');
  }

  private async foreground(node: Node): Promise<void> {
    const uid = node.obj.metadata.uid!;
    const deps = [...(this.dependents.get(uid) ?? [])].map((d) => this.byUid.get(d)).filter((d): d is Node => !!d);
    const blocking = deps.filter((d) => ownerRefs(d.obj).some((r) => r.uid === uid && r.blockOwnerDeletion));
    for (const d of deps)
      if (!d.obj.metadata.deletionTimestamp)
        await this.client.request('DELETE', `${d.path}?propagationPolicy=Foreground`);
    if (blocking.length === 0) await this.removeFinalizer(node, 'foregroundDeletion');
    else this.queue.addAfter(uid, 200);
  }

  private async removeFinalizer(node: Node, f: string): Promise<void> {
    const fresh = await this.client.request<K8sObject>('GET', node.path);
    if (fresh.status !== 200) return;
    const left = ((fresh.body.metadata.finalizers ?? []) as string[]).filter((x) => x !== f);
    const r = await this.client.request(
      'PATCH',
      node.path,
      {
        metadata: { finalizers: left.length ? left : null, resourceVersion: fresh.body.metadata.resourceVersion },
      } as Obj,
      MERGE,
    );
    if (r.status === 409) throw new Error('conflict removing finalizer, retry');
  }
}

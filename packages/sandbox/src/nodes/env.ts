// A container's environment as the kubelet builds it: the in-cluster service variables, then
// envFrom (ConfigMaps and Secrets, with prefix), then env (value with $(VAR) expansion,
// valueFrom fieldRef/resourceFieldRef/secretKeyRef/configMapKeyRef). Objects are fetched
// through the API by the caller-provided getter.
import { expandVars } from './images.js';
import { cpuMilli, bytes } from '../scheduler/resources.js';

export type Obj = Record<string, unknown>;
export type ObjectGetter = (resource: 'secrets' | 'configmaps', name: string) => Promise<Obj | undefined>;

export class EnvError extends Error {
  override readonly name = 'EnvError';
  readonly code = 'CreateContainerConfigError';
}

const decode = (resource: string, v: unknown): string =>
  resource === 'secrets' ? Buffer.from(String(v), 'base64').toString('utf8') : String(v);

/** metadata.name, status.podIP, spec.nodeName... as fieldRef resolves them. */
export function fieldRef(pod: Obj, path: string, hostIP: string): string | undefined {
  const meta = (pod.metadata ?? {}) as Obj;
  const spec = (pod.spec ?? {}) as Obj;
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return ((meta[m[1]!] ?? {}) as Record<string, string>)[m[2]!];
  switch (path) {
    case 'metadata.name':
      return String(meta.name);
    case 'metadata.namespace':
      return String(meta.namespace);
    case 'metadata.uid':
      return String(meta.uid);
    case 'spec.nodeName':
      return String(spec.nodeName ?? '');
    case 'spec.serviceAccountName':
      return String(spec.serviceAccountName ?? '');
    // The pod runs in its node's network: its status.podIP (from the podCIDR) is not an address
    // it can listen on, its node's is.
    case 'status.hostIP':
    case 'status.podIP':
      return hostIP;
    case 'status.hostIPs':
    case 'status.podIPs':
      return hostIP;
    default:
      return undefined;
  }
}

export async function buildEnv(
  pod: Obj,
  container: Obj,
  base: Record<string, string>,
  get: ObjectGetter,
  hostIP: string,
): Promise<Map<string, string>> {
  const env = new Map<string, string>(Object.entries(base));
  for (const from of (container.envFrom ?? []) as Obj[]) {
    const ref = (from.configMapRef ?? from.secretRef) as Obj | undefined;
    if (!ref) continue;
    const resource = from.secretRef ? 'secrets' : 'configmaps';
    const o = await get(resource, String(ref.name));
    if (!o) {
      if (ref.optional === true) continue;
      throw new EnvError(`${resource === 'secrets' ? 'secret' : 'configmap'} "${String(ref.name)}" not found`);
    }
    for (const [k, v] of Object.entries((o.data ?? {}) as Obj))
      env.set(`${String(from.prefix ?? '')}${k}`, decode(resource, v));
  }
  for (const e of (container.env ?? []) as Obj[]) {
    const name = String(e.name);
    if (e.valueFrom === undefined) {
      env.set(name, expandVars(String(e.value ?? ''), env));
      continue;
    }
    const vf = e.valueFrom as Obj;
    if (vf.fieldRef) {
      env.set(name, fieldRef(pod, String((vf.fieldRef as Obj).fieldPath), hostIP) ?? '');
      continue;
    }
    if (vf.resourceFieldRef) {
      const r = vf.resourceFieldRef as Obj;
      const res = (container.resources ?? {}) as Obj;
      const [kind, what] = String(r.resource).split('.') as [string, string];
      const q = ((res[kind] ?? {}) as Obj)[what];
      env.set(name, what === 'cpu' ? String(Math.ceil(cpuMilli(q ?? '0') / 1000) || 1) : String(bytes(q ?? '0')));
      continue;
    }
    const keyRef = (vf.secretKeyRef ?? vf.configMapKeyRef) as Obj | undefined;
    if (!keyRef) continue;
    const resource = vf.secretKeyRef ? 'secrets' : 'configmaps';
    const o = await get(resource, String(keyRef.name));
    const data = (o?.data ?? {}) as Obj;
    const key = String(keyRef.key);
    if (!o || data[key] === undefined) {
      if (keyRef.optional === true) continue;
      throw new EnvError(
        o
          ? `couldn't find key ${key} in ${resource === 'secrets' ? 'Secret' : 'ConfigMap'} ${String(((pod.metadata ?? {}) as Obj).namespace)}/${String(keyRef.name)}`
          : `${resource === 'secrets' ? 'secret' : 'configmap'} "${String(keyRef.name)}" not found`,
      );
    }
    env.set(name, decode(resource, data[key]));
  }
  return env;
}

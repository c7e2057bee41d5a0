// Cluster IPs of Services, allocated as kube-apiserver's service registry allocates them from
// --service-cluster-ip-range: on create a free address (or the requested one, if it is free and
// in the range), `None` kept for a headless Service, nothing for ExternalName; on update the
// allocated address is kept when the new object leaves it out (helm's three-way patch and
// `kubectl apply` send Services without it) and refused when it would change. The allocation
// table is the stored Services themselves, so a deleted Service frees its address at once.
import { errors } from '../errors.js';
import { invalid } from '../validation/fieldErrors.js';
import type { Obj } from '../storage/objectMeta.js';
import type { ObjectStore } from '../storage/store.js';

/** kube-apiserver's default --service-cluster-ip-range (and the reference control plane's). */
export const SERVICE_CIDR = '10.0.0.0/24';
/** The first address is the `kubernetes` Service's, as kube-apiserver reserves it. */
export const KUBERNETES_SERVICE_IP = '10.0.0.1';

const toInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0) >>> 0;
const toIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

const [base, bits] = SERVICE_CIDR.split('/') as [string, string];
const first = toInt(base) + 1;
const last = toInt(base) + 2 ** (32 - Number(bits)) - 2;
const size = last - first + 1;
// Dynamic allocations take the upper part first, leaving the lower band for addresses people
// ask for (KEP-3070: min(max(16, size/16), 256) addresses).
const staticBand = Math.min(Math.max(16, Math.floor(size / 16)), 256);

const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

function inUse(store: ObjectStore): Set<string> {
  const used = new Set([KUBERNETES_SERVICE_IP]);
  for (const s of store.list('/services')) for (const ip of (obj(s.spec).clusterIPs ?? []) as string[]) used.add(ip);
  return used;
}

function requested(spec: Obj): string | undefined {
  const ips = spec.clusterIPs as string[] | undefined;
  const ip = typeof spec.clusterIP === 'string' && spec.clusterIP ? spec.clusterIP : ips?.[0];
  return ip || undefined;
}

/** On create: fills spec.clusterIP and spec.clusterIPs, or refuses the requested address with 422. */
export function allocateClusterIP(store: ObjectStore, service: Obj): void {
  const spec = obj(service.spec);
  if (spec.type === 'ExternalName') return;
  const ask = requested(spec);
  const name = String(obj(service.metadata).name ?? '');
  if (ask === 'None') {
    spec.clusterIP = 'None';
    spec.clusterIPs = ['None'];
    return;
  }
  const used = inUse(store);
  let ip: string;
  if (ask !== undefined) {
    const fail = (why: string): never => {
      throw errors.invalid('Service', '', name, [
        invalid('spec.clusterIPs', [ask], `failed to allocate IP ${ask}: ${why}`),
      ]);
    };
    if (!IPV4.test(ask)) fail('not a valid IP address');
    const n = toInt(ask);
    if (n < first || n > last)
      fail(`the provided IP (${ask}) is not in the valid range. The range of valid IPs is ${SERVICE_CIDR}`);
    if (used.has(ask)) fail('provided IP is already allocated');
    ip = ask;
  } else {
    const free = (from: number, to: number): number[] => {
      const out: number[] = [];
      for (let n = from; n <= to; n++) if (!used.has(toIp(n))) out.push(n);
      return out;
    };
    const candidates = free(first + staticBand, last);
    const pool = candidates.length ? candidates : free(first, first + staticBand - 1);
    if (!pool.length) throw errors.internal(`failed to allocate a serviceIP: range is full`);
    ip = toIp(pool[Math.floor(Math.random() * pool.length)]!);
  }
  spec.clusterIP = ip;
  spec.clusterIPs = [ip];
}

/** On update: keeps the allocated address where the new spec leaves it out; refuses a change. */
export function keepClusterIP(current: Obj, next: Obj): void {
  const was = obj(current.spec);
  const spec = obj(next.spec);
  if (spec.type === 'ExternalName' || was.clusterIP === undefined) return;
  const ask = requested(spec);
  const name = String(obj(next.metadata).name ?? '');
  if (ask === undefined) {
    spec.clusterIP = was.clusterIP;
    spec.clusterIPs = was.clusterIPs;
    return;
  }
  if (ask !== was.clusterIP) {
    throw errors.invalid('Service', '', name, [invalid('spec.clusterIPs[0]', ask, 'may not change once set')]);
  }
  spec.clusterIP = ask;
  spec.clusterIPs ??= was.clusterIPs;
}

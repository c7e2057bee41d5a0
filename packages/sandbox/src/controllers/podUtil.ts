// Pod and owner helpers shared by the workload controllers.
import type { K8sObject } from '../client/kubeClient.js';

export type Obj = Record<string, unknown>;

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export function ownerRefs(o: K8sObject): OwnerRef[] {
  return Array.isArray(o.metadata.ownerReferences) ? (o.metadata.ownerReferences as OwnerRef[]) : [];
}

export function controllerOf(o: K8sObject, kind?: string): OwnerRef | undefined {
  return ownerRefs(o).find((r) => r.controller === true && (kind === undefined || r.kind === kind));
}

export function isPodActive(p: K8sObject): boolean {
  const phase = (p.status as Obj | undefined)?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata.deletionTimestamp;
}

function readyCondition(p: K8sObject): Obj | undefined {
  const conds = ((p.status as Obj | undefined)?.conditions ?? []) as Obj[];
  return conds.find((c) => c.type === 'Ready');
}

export function isPodReady(p: K8sObject): boolean {
  return readyCondition(p)?.status === 'True';
}

export function isPodAvailable(p: K8sObject, minReadySeconds: number): boolean {
  const c = readyCondition(p);
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const t = Date.parse(String(c.lastTransitionTime ?? ''));
  return Number.isFinite(t) && t + minReadySeconds * 1000 <= Date.now();
}

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(String(v ?? '0'));
  if (!m) return Number(v ?? 0) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** A stable JSON (sorted keys) for comparing templates. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Obj)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';
/** controller.ComputeHash: fnv32a of the template (+ collisionCount), rand.SafeEncodeString'd. */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  let h = 0x811c9dc5;
  const s = canonical(template) + (collisionCount ? String(collisionCount) : '');
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return String(h)
    .split('')
    .map((c) => SAFE[c.charCodeAt(0) % SAFE.length])
    .join('');
}

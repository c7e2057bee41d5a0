// Small helpers over stored objects: timestamps as kube-apiserver writes them (RFC 3339, whole
// seconds), uids, generated names.
import { randomInt, randomUUID } from 'node:crypto';

export const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
export const newUid = (): string => randomUUID();

// utilrand.String's alphabet: no vowels (no words), no 0/1/3 (no confusion).
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** names.SimpleNameGenerator: the base cut to 58 characters plus 5 random ones. */
export function generateName(base: string): string {
  return `${base.length > 58 ? base.slice(0, 58) : base}${randomSuffix()}`;
}

/** ObjectMeta's fields in the order kube-apiserver writes them (`kubectl get -o yaml` reads the same). */
export const OBJECT_META_FIELDS = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const metaOf = (o: Obj): Obj => (isObj(o.metadata) ? o.metadata : {});

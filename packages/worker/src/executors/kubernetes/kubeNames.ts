import { createHash } from 'node:crypto';

/** The labels every script pod and its Secret carry: the pod watch and the sweeper select on them. */
export const LABELS = {
  worker: 'longshore.io/worker',
  operation: 'longshore.io/operation',
  task: 'longshore.io/task',
  step: 'longshore.io/step',
  /** `true` on a health check's pod: not an operation's, so leftovers and the pod watch pass it by and the sweeper removes it. */
  healthCheck: 'longshore.io/health-check',
} as const;

export const ANNOTATIONS = {
  /** Without it the cluster autoscaler may drain a node under a running deployment step. */
  safeToEvict: 'cluster-autoscaler.kubernetes.io/safe-to-evict',
  /** The step's name as written: a label value cannot hold spaces. */
  stepName: 'longshore.io/step-name',
} as const;

export const SCRIPT_CONTAINER = 'script';
export const PACKAGES_CONTAINER = 'packages';

const MAX_NAME = 63;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * A DNS-1123 label (pod names end up as hostnames, which are labels): lowercase alphanumerics
 * and '-', at most 63 characters. A name that had to be cut or changed gets a hash of the
 * original, so two different ids never map to one name.
 */
export function dnsLabel(prefix: string, id: string): string {
  const cleaned = id
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const plain = `${prefix}${cleaned}`;
  if (cleaned === id && plain.length <= MAX_NAME) return plain;
  const hash = shortHash(id);
  const room = MAX_NAME - prefix.length - hash.length - 1;
  const head = cleaned.slice(0, Math.max(0, room)).replace(/-+$/, '');
  return head ? `${prefix}${head}-${hash}` : `${prefix}${hash}`;
}

/** The names of an operation's Kubernetes objects, derived from its id alone (a restarted worker finds them again). */
export function scriptPodNames(operationId: string): { pod: string; secret: string } {
  const pod = dnsLabel('longshore-', operationId);
  return { pod, secret: `${pod}-workspace`.length <= 253 ? `${pod}-workspace` : pod };
}

/**
 * A label value: at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric, or
 * empty. Anything else is replaced, and a changed value gets a hash so that distinct inputs stay distinct.
 */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (cleaned === text && cleaned.length <= MAX_NAME) return cleaned;
  const hash = shortHash(text);
  const head = cleaned.slice(0, MAX_NAME - hash.length - 1).replace(/[^A-Za-z0-9]+$/, '');
  return head ? `${head}-${hash}` : hash;
}

export function isLabelValue(text: string): boolean {
  return text.length <= MAX_NAME && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(text);
}

export function isDnsLabel(text: string): boolean {
  return text.length <= MAX_NAME && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text);
}

/** The selector for every object of this worker. */
export function workerSelector(workerName: string): string {
  return `${LABELS.worker}=${labelValue(workerName)}`;
}

// Resource quantities as the scheduler and the autoscaler count them: CPU in millicores,
// memory in bytes, pods as a count. Parsing follows resource.Quantity (decimal and binary
// suffixes, exponents, milli-units); a value that does not parse counts as 0, as an unset
// request would, since validation has already refused malformed quantities.
import { quantityValue } from '../validation/quantity.js';

export type Obj = Record<string, unknown>;

export interface Resources {
  cpuMilli: number;
  memoryBytes: number;
  pods: number;
}

export const cpuMilli = (q: unknown): number => Math.ceil((quantityValue(q) ?? 0) * 1000 - 1e-9);
export const bytes = (q: unknown): number => Math.ceil(quantityValue(q) ?? 0);

export const ZERO: Resources = { cpuMilli: 0, memoryBytes: 0, pods: 0 };

export const add = (a: Resources, b: Resources): Resources => ({
  cpuMilli: a.cpuMilli + b.cpuMilli,
  memoryBytes: a.memoryBytes + b.memoryBytes,
  pods: a.pods + b.pods,
});

function containerRequests(c: Obj): Resources {
  const res = (c.resources ?? {}) as Obj;
  // A limit without a request defaults the request to the limit (API defaulting does the same).
  const req = { ...((res.limits ?? {}) as Obj), ...((res.requests ?? {}) as Obj) };
  return { cpuMilli: cpuMilli(req.cpu), memoryBytes: bytes(req.memory), pods: 0 };
}

/** What a pod asks of a node: max(any init container, sum of containers) + overhead, as
 *  resourcehelper.PodRequests computes it; counts as one pod. */
export function podRequests(pod: Obj): Resources {
  const spec = (pod.spec ?? {}) as Obj;
  let sum = ZERO;
  for (const c of (spec.containers ?? []) as Obj[]) sum = add(sum, containerRequests(c));
  for (const c of (spec.initContainers ?? []) as Obj[]) {
    const r = containerRequests(c);
    sum = {
      cpuMilli: Math.max(sum.cpuMilli, r.cpuMilli),
      memoryBytes: Math.max(sum.memoryBytes, r.memoryBytes),
      pods: 0,
    };
  }
  const overhead = (spec.overhead ?? {}) as Obj;
  return {
    cpuMilli: sum.cpuMilli + cpuMilli(overhead.cpu),
    memoryBytes: sum.memoryBytes + bytes(overhead.memory),
    pods: 1,
  };
}

/** A node's allocatable (status.allocatable). */
export function nodeAllocatable(node: Obj): Resources {
  const a = (((node.status ?? {}) as Obj).allocatable ?? {}) as Obj;
  return { cpuMilli: cpuMilli(a.cpu), memoryBytes: bytes(a.memory), pods: Math.floor(quantityValue(a.pods) ?? 0) };
}

/** Formats millicores and bytes back to the forms kubectl prints ("1500m", "4Gi"). */
export const formatCpu = (m: number): string => (m % 1000 === 0 ? String(m / 1000) : `${m}m`);
export function formatBytes(b: number): string {
  for (const [s, f] of [
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const)
    if (b % f === 0 && b >= f) return `${b / f}${s}`;
  return String(b);
}

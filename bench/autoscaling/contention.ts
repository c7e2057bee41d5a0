// What happens on a node when its pods want more than it has.
//
// CPU is compressible: the kernel divides a busy node's CPU by cgroup weight, and the kubelet sets
// each container's weight from its CPU request. So a pod that wants no more than its share gets
// all it wants, and the rest is divided among the others by request — a pod far over a small
// request on a full node gets little and runs slower (it is starved).
//
// Memory is not: a container over its memory limit is OOM-killed at once, and when the pods of a
// node together use more than it has, the kubelet evicts first the pod whose usage exceeds its
// request the most.

/** Kubernetes' floor for a container's CPU weight (2 shares, i.e. 2m). */
const MIN_WEIGHT_MILLIS = 2;

/** CPU each pod gets on a node of `capacity` millicores: water-filling by request weight. */
export function shareCpu(capacity: number, wanted: readonly number[], requests: readonly number[]): number[] {
  const total = wanted.reduce((a, b) => a + b, 0);
  if (total <= capacity) return [...wanted];
  const got = wanted.map(() => 0);
  let open = wanted.map((_, i) => i);
  let left = capacity;
  // Pods wanting less than their weighted share are satisfied and leave the rest to share again.
  for (;;) {
    const weight = open.reduce((a, i) => a + Math.max(MIN_WEIGHT_MILLIS, requests[i]!), 0);
    const satisfied = open.filter((i) => wanted[i]! <= (left * Math.max(MIN_WEIGHT_MILLIS, requests[i]!)) / weight);
    if (!satisfied.length) {
      for (const i of open) got[i] = (left * Math.max(MIN_WEIGHT_MILLIS, requests[i]!)) / weight;
      return got;
    }
    for (const i of satisfied) {
      got[i] = wanted[i]!;
      left -= wanted[i]!;
    }
    open = open.filter((i) => !satisfied.includes(i));
    if (!open.length) return got;
  }
}

/** The index of the pod the kubelet evicts when the node's memory is exhausted: the most over its request. */
export function evictionVictim(usage: readonly number[], requests: readonly number[]): number {
  let victim = 0;
  for (let i = 1; i < usage.length; i++) if (usage[i]! - requests[i]! > usage[victim]! - requests[victim]!) victim = i;
  return victim;
}

import { isQuantity as isQuantityText, parseQuantity } from '@longshore/protocol';

// The protocol's resource.Quantity grammar; the cluster counts in floats (cores, bytes), enough to
// compare requests with limits and to add them up against a node's allocatable. A number is a
// quantity too: YAML and JSON clients send `cpu: 2`.

/** The value of a Quantity in base units (cores, bytes), or undefined when it does not parse. */
export function quantityValue(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || !isQuantityText(v.trim())) return undefined;
  return Number(parseQuantity(v.trim()).nanos) / 1e9;
}

export function isQuantity(v: unknown): boolean {
  return quantityValue(v) !== undefined;
}

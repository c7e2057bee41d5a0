/** Kubernetes quantity suffixes: decimal (k, M, G…), binary (Ki, Mi, Gi…) and milli. */
const MULTIPLIERS: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};
const QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

/** A quantity as written in a step ("500m", "1.5", "512Mi"); undefined for what the portal cannot read. */
export function quantityValue(quantity: string | undefined): number | undefined {
  const match = QUANTITY.exec(quantity?.trim() ?? '');
  return match ? Number(match[1]) * MULTIPLIERS[match[2] ?? '']! : undefined;
}

/** Millicores as the server and the CLI write them: "900m". */
export const formatCpu = (millis: number): string => `${Math.round(millis)}m`;

/** Bytes in mebibytes, as the server's recommendation and the CLI write them: "240Mi". */
export const formatMemory = (bytes: number): string => `${Math.round(bytes / 2 ** 20)}Mi`;

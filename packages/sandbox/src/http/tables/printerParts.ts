// What the per-group printers (coreColumns.ts, appsColumns.ts, batchColumns.ts,
// otherColumns.ts) are made of: column definitions as kube-apiserver's printers declare them
// (pkg/printers/internalversion) and the cell formatting they share (ages, label selectors,
// the wide workload columns).
export type Obj = Record<string, unknown>;

export interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  description?: string;
}

/** A kind's columns and the cells of one object's row, in the same order. */
export interface Printer {
  columns: Column[];
  cells: (o: Obj) => unknown[];
}

export const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((c, k) => (c && typeof c === 'object' ? (c as Obj)[k] : undefined), o);
export const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** duration.HumanDuration: the AGE column's "5m", "3h20m", "2d". */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

export const age = (o: Obj): string => {
  const t = get(o, 'metadata.creationTimestamp');
  return typeof t === 'string' ? humanDuration(Date.now() - Date.parse(t)) : '<unknown>';
};

// metav1.ObjectMeta{}.SwaggerDoc()["name"] and ["creationTimestamp"], the descriptions every
// printer gives its Name and Age columns.
const NAME_DOC =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
export const CREATION_TIMESTAMP_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

export const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: NAME_DOC };
export const AGE: Column = { name: 'Age', type: 'string', description: CREATION_TIMESTAMP_DOC };

export const col = (name: string, type = 'string', priority = 0, description = ''): Column => ({
  name,
  type,
  ...(priority ? { priority } : {}),
  description,
});

export const labelPairs = (m: unknown): string =>
  Object.entries((m ?? {}) as Obj)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');

/** metav1.FormatLabelSelector for the common cases: matchLabels, then expressions. */
export function labelSelector(sel: unknown): string {
  const s = (sel ?? {}) as Obj;
  const exprs = arr(s.matchExpressions).map((e) => {
    const values = ((e.values ?? []) as string[]).join(',');
    if (e.operator === 'Exists') return String(e.key);
    if (e.operator === 'DoesNotExist') return `!${String(e.key)}`;
    return `${String(e.key)} ${String(e.operator).toLowerCase()} (${values})`;
  });
  return [labelPairs(s.matchLabels), ...exprs].filter(Boolean).join(',');
}

/** The wide columns of the workload printers: containers, images, selector. */
export function templateWide(podSpec: unknown, selector: string): string[] {
  const cs = arr(get(podSpec, 'containers'));
  return [cs.map((c) => String(c.name)).join(','), cs.map((c) => String(c.image)).join(','), selector || '<none>'];
}

/** The printers' formatEndpoints: three, then "+ N more...". */
export function atMostThree(items: string[]): string {
  return items.length > 3 ? `${items.slice(0, 3).join(',')} + ${items.length - 3} more...` : items.join(',');
}

/** Containers, Images, Selector: the wide (priority 1) columns of the workload printers. */
export function wideColumns(selectorDescription = ''): Column[] {
  return [
    col('Containers', 'string', 1, 'Names of each container in the template.'),
    col('Images', 'string', 1, 'Images referenced by each container in the template.'),
    col('Selector', 'string', 1, selectorDescription),
  ];
}

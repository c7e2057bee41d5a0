// Server-side printing (meta.k8s.io/v1 Table): what `kubectl get` shows. kubectl asks for
// `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the columns the server chose, so
// these follow kube-apiserver's printers (pkg/printers/internalversion); each API group's
// columns are in tables/.
import { APPS_PRINTERS } from './tables/appsColumns.js';
import { BATCH_PRINTERS } from './tables/batchColumns.js';
import { CORE_PRINTERS } from './tables/coreColumns.js';
import { OTHER_PRINTERS } from './tables/otherColumns.js';
import { CREATION_TIMESTAMP_DOC, NAME, get, type Obj, type Printer } from './tables/printerParts.js';

const PRINTERS: Record<string, Printer> = { ...CORE_PRINTERS, ...APPS_PRINTERS, ...BATCH_PRINTERS, ...OTHER_PRINTERS };

// Kinds without a printer get kube-apiserver's default table: Name and "Created At".
const DEFAULT: Printer = {
  columns: [
    NAME,
    {
      name: 'Created At',
      type: 'date',
      description: CREATION_TIMESTAMP_DOC,
    },
  ],
  cells: (o) => [get(o, 'metadata.name'), get(o, 'metadata.creationTimestamp')],
};

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

function rowObject(o: Obj, includeObject: string): Obj {
  if (includeObject === 'None') return {};
  if (includeObject === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(
  kind: string,
  items: Obj[],
  listMeta: Obj,
  opts: { includeObject?: string; noHeaders?: boolean } = {},
): Obj {
  const p = PRINTERS[kind] ?? DEFAULT;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    ...(opts.noHeaders
      ? {}
      : {
          columnDefinitions: p.columns.map((c) => ({
            name: c.name,
            type: c.type,
            format: c.format ?? '',
            description: c.description ?? '',
            priority: c.priority ?? 0,
          })),
        }),
    rows: items.map((o) => ({ cells: p.cells(o), object: rowObject(o, opts.includeObject ?? 'Metadata') })),
  };
}

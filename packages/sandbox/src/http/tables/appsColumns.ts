// kubectl get columns of apps/v1 workloads, as kube-apiserver's printers make them.
import {
  AGE,
  NAME,
  age,
  arr,
  col,
  get,
  labelPairs,
  labelSelector,
  templateWide,
  wideColumns,
  type Obj,
  type Printer,
} from './printerParts.js';

export const APPS_PRINTERS: Record<string, Printer> = {
  Deployment: {
    columns: [
      NAME,
      col('Ready'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o) => [
      get(o, 'metadata.name'),
      `${Number(get(o, 'status.readyReplicas') ?? 0)}/${Number(get(o, 'spec.replicas') ?? 0)}`,
      Number(get(o, 'status.updatedReplicas') ?? 0),
      Number(get(o, 'status.availableReplicas') ?? 0),
      age(o),
      arr(get(o, 'spec.template.spec.containers'))
        .map((c) => c.name)
        .join(','),
      arr(get(o, 'spec.template.spec.containers'))
        .map((c) => c.image)
        .join(','),
      Object.entries((get(o, 'spec.selector.matchLabels') ?? {}) as Obj)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(','),
    ],
  },
  ReplicaSet: {
    columns: [NAME, col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), AGE],
    cells: (o) => [
      get(o, 'metadata.name'),
      Number(get(o, 'spec.replicas') ?? 0),
      Number(get(o, 'status.replicas') ?? 0),
      Number(get(o, 'status.readyReplicas') ?? 0),
      age(o),
    ],
  },
  DaemonSet: {
    columns: [
      NAME,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      col('Node Selector'),
      AGE,
      ...wideColumns(),
    ],
    cells: (o) => [
      get(o, 'metadata.name'),
      Number(get(o, 'status.desiredNumberScheduled') ?? 0),
      Number(get(o, 'status.currentNumberScheduled') ?? 0),
      Number(get(o, 'status.numberReady') ?? 0),
      Number(get(o, 'status.updatedNumberScheduled') ?? 0),
      Number(get(o, 'status.numberAvailable') ?? 0),
      labelPairs(get(o, 'spec.template.spec.nodeSelector')) || '<none>',
      age(o),
      ...templateWide(get(o, 'spec.template.spec'), labelSelector(get(o, 'spec.selector'))),
    ],
  },
};

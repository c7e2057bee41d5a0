// kubectl get columns of the core group (v1), as kube-apiserver's printers make them.
import {
  AGE,
  NAME,
  age,
  arr,
  atMostThree,
  col,
  get,
  humanDuration,
  labelPairs,
  templateWide,
  wideColumns,
  type Obj,
  type Printer,
} from './printerParts.js';

function podStatus(o: Obj): string {
  if (get(o, 'metadata.deletionTimestamp')) return 'Terminating';
  const statuses = arr(get(o, 'status.containerStatuses'));
  for (const s of statuses) {
    const w = get(s, 'state.waiting.reason');
    if (typeof w === 'string' && w) return w;
    const t = get(s, 'state.terminated.reason');
    if (typeof t === 'string' && t) return t;
  }
  return String(get(o, 'status.reason') ?? get(o, 'status.phase') ?? 'Unknown');
}

export const CORE_PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [
      NAME,
      col('Ready'),
      col('Status'),
      col('Restarts'),
      AGE,
      col('IP', 'string', 1),
      col('Node', 'string', 1),
      col('Nominated Node', 'string', 1),
      col('Readiness Gates', 'string', 1),
    ],
    cells: (o) => {
      const cs = arr(get(o, 'spec.containers'));
      const st = arr(get(o, 'status.containerStatuses'));
      const ready = st.filter((s) => s.ready === true).length;
      const restarts = st.reduce((n, s) => n + Number(s.restartCount ?? 0), 0);
      return [
        get(o, 'metadata.name'),
        `${ready}/${cs.length}`,
        podStatus(o),
        String(restarts),
        age(o),
        get(o, 'status.podIP') ?? '<none>',
        get(o, 'spec.nodeName') ?? '<none>',
        get(o, 'status.nominatedNodeName') ?? '<none>',
        '<none>',
      ];
    },
  },
  Namespace: {
    columns: [NAME, col('Status'), AGE],
    cells: (o) => [get(o, 'metadata.name'), get(o, 'status.phase') ?? '', age(o)],
  },
  ConfigMap: {
    columns: [NAME, col('Data', 'integer'), AGE],
    cells: (o) => [
      get(o, 'metadata.name'),
      Object.keys((o.data ?? {}) as Obj).length + Object.keys((o.binaryData ?? {}) as Obj).length,
      age(o),
    ],
  },
  Secret: {
    columns: [NAME, col('Type'), col('Data', 'integer'), AGE],
    cells: (o) => [get(o, 'metadata.name'), o.type ?? '', Object.keys((o.data ?? {}) as Obj).length, age(o)],
  },
  ServiceAccount: {
    columns: [NAME, col('Secrets', 'integer'), AGE],
    cells: (o) => [get(o, 'metadata.name'), arr(o.secrets).length, age(o)],
  },
  Service: {
    columns: [
      NAME,
      col('Type'),
      col('Cluster-IP'),
      col('External-IP'),
      col('Port(s)'),
      AGE,
      col('Selector', 'string', 1),
    ],
    cells: (o) => [
      get(o, 'metadata.name'),
      get(o, 'spec.type') ?? 'ClusterIP',
      get(o, 'spec.clusterIP') ?? '<none>',
      '<none>',
      arr(get(o, 'spec.ports'))
        .map((p) => `${String(p.port)}/${String(p.protocol ?? 'TCP')}`)
        .join(',') || '<none>',
      age(o),
      Object.entries((get(o, 'spec.selector') ?? {}) as Obj)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',') || '<none>',
    ],
  },
  ReplicationController: {
    columns: [
      NAME,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      AGE,
      ...wideColumns(),
    ],
    cells: (o) => [
      get(o, 'metadata.name'),
      Number(get(o, 'spec.replicas') ?? 0),
      Number(get(o, 'status.replicas') ?? 0),
      Number(get(o, 'status.readyReplicas') ?? 0),
      age(o),
      ...templateWide(get(o, 'spec.template.spec'), labelPairs(get(o, 'spec.selector'))),
    ],
  },
  Node: {
    columns: [NAME, col('Status'), col('Roles'), AGE, col('Version')],
    cells: (o) => {
      const ready = arr(get(o, 'status.conditions')).find((c) => c.type === 'Ready');
      const status = ready?.status === 'True' ? 'Ready' : 'NotReady';
      return [
        get(o, 'metadata.name'),
        get(o, 'spec.unschedulable') ? `${status},SchedulingDisabled` : status,
        '<none>',
        age(o),
        get(o, 'status.nodeInfo.kubeletVersion') ?? '',
      ];
    },
  },
  Event: {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message')],
    cells: (o) => {
      const t = (o.lastTimestamp ?? o.eventTime ?? get(o, 'metadata.creationTimestamp')) as string | undefined;
      const io = (o.involvedObject ?? {}) as Obj;
      return [
        t ? humanDuration(Date.now() - Date.parse(t)) : '<unknown>',
        o.type ?? '',
        o.reason ?? '',
        `${String(io.kind ?? '').toLowerCase()}/${String(io.name ?? '')}`,
        o.message ?? '',
      ];
    },
  },
  Endpoints: {
    columns: [NAME, col('Endpoints'), AGE],
    cells: (o) => [
      get(o, 'metadata.name'),
      atMostThree(
        arr(o.subsets).flatMap((s) =>
          arr(s.addresses).flatMap((a) =>
            arr(s.ports).length ? arr(s.ports).map((p) => `${String(a.ip)}:${String(p.port)}`) : [String(a.ip)],
          ),
        ),
      ) || '<none>',
      age(o),
    ],
  },
};

// Server-side printing (meta.k8s.io/v1 Table): what `kubectl get` shows. kubectl asks for
// `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the columns the server chose, so
// these follow kube-apiserver's printers (pkg/printers/internalversion) for the kinds served.
type Obj = Record<string, unknown>;
const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((c, k) => (c && typeof c === 'object' ? (c as Obj)[k] : undefined), o);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  description?: string;
}
interface Printer {
  columns: Column[];
  cells: (o: Obj) => unknown[];
}

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

const age = (o: Obj): string => {
  const t = get(o, 'metadata.creationTimestamp');
  return typeof t === 'string' ? humanDuration(Date.now() - Date.parse(t)) : '<unknown>';
};
const NAME: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
};
const AGE: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
};
const col = (name: string, type = 'string', priority = 0): Column => ({
  name,
  type,
  ...(priority ? { priority } : {}),
  description: '',
});

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

const WORKLOAD_WIDE = [col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)];

/** The wide columns of the workload printers: containers, images, selector. */
function workloadWide(o: Obj, selector: string): string[] {
  const cs = arr(get(o, 'spec.template.spec.containers'));
  return [cs.map((c) => String(c.name)).join(','), cs.map((c) => String(c.image)).join(','), selector || '<none>'];
}

const labelPairs = (m: unknown): string =>
  Object.entries((m ?? {}) as Obj)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');

/** metav1.FormatLabelSelector for the common cases: matchLabels, then expressions. */
function labelSelector(sel: unknown): string {
  const s = (sel ?? {}) as Obj;
  const exprs = arr(s.matchExpressions).map((e) => {
    const values = ((e.values ?? []) as string[]).join(',');
    if (e.operator === 'Exists') return String(e.key);
    if (e.operator === 'DoesNotExist') return `!${String(e.key)}`;
    return `${String(e.key)} ${String(e.operator).toLowerCase()} (${values})`;
  });
  return [labelPairs(s.matchLabels), ...exprs].filter(Boolean).join(',');
}

const PRINTERS: Record<string, Printer> = {
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
      ...WORKLOAD_WIDE,
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
      ...workloadWide(o, labelSelector(get(o, 'spec.selector'))),
    ],
  },
  ReplicationController: {
    columns: [
      NAME,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      AGE,
      ...WORKLOAD_WIDE,
    ],
    cells: (o) => [
      get(o, 'metadata.name'),
      Number(get(o, 'spec.replicas') ?? 0),
      Number(get(o, 'status.replicas') ?? 0),
      Number(get(o, 'status.readyReplicas') ?? 0),
      age(o),
      ...workloadWide(o, labelPairs(get(o, 'spec.selector'))),
    ],
  },
  APIService: {
    columns: [NAME, col('Service'), col('Available'), AGE],
    cells: (o) => {
      const svc = get(o, 'spec.service') as Obj | undefined;
      const cond = arr(get(o, 'status.conditions')).find((c) => c.type === 'Available');
      const available = !cond
        ? 'Unknown'
        : cond.status === 'True'
          ? 'True'
          : `${String(cond.status)} (${String(cond.reason ?? '')})`;
      return [
        get(o, 'metadata.name'),
        svc ? `${String(svc.namespace)}/${String(svc.name)}` : 'Local',
        available,
        age(o),
      ];
    },
  },
  Job: {
    columns: [
      NAME,
      col('Status'),
      col('Completions'),
      col('Duration'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o) => [
      get(o, 'metadata.name'),
      jobStatus(o),
      jobCompletions(o),
      jobDuration(o),
      age(o),
      ...templateColumns(get(o, 'spec.template.spec'), get(o, 'spec.selector')),
    ],
  },
  CronJob: {
    columns: [
      NAME,
      col('Schedule'),
      col('Timezone'),
      col('Suspend', 'boolean'),
      col('Active', 'integer'),
      col('Last Schedule'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o) => {
      const last = get(o, 'status.lastScheduleTime');
      const suspend = get(o, 'spec.suspend');
      return [
        get(o, 'metadata.name'),
        get(o, 'spec.schedule') ?? '',
        get(o, 'spec.timeZone') ?? '<none>',
        suspend === undefined ? '<unset>' : suspend ? 'True' : 'False',
        arr(get(o, 'status.active')).length,
        typeof last === 'string' ? humanDuration(Date.now() - Date.parse(last)) : '<none>',
        age(o),
        ...templateColumns(get(o, 'spec.jobTemplate.spec.template.spec'), get(o, 'spec.jobTemplate.spec.selector')),
      ];
    },
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
  RoleBinding: {
    columns: [NAME, col('Role'), AGE],
    cells: (o) => [
      get(o, 'metadata.name'),
      `${String(get(o, 'roleRef.kind'))}/${String(get(o, 'roleRef.name'))}`,
      age(o),
    ],
  },
  ClusterRoleBinding: {
    columns: [NAME, col('Role'), AGE],
    cells: (o) => [
      get(o, 'metadata.name'),
      `${String(get(o, 'roleRef.kind'))}/${String(get(o, 'roleRef.name'))}`,
      age(o),
    ],
  },
  PodDisruptionBudget: {
    columns: [NAME, col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', 'integer'), AGE],
    cells: (o) => [
      get(o, 'metadata.name'),
      String(get(o, 'spec.minAvailable') ?? 'N/A'),
      String(get(o, 'spec.maxUnavailable') ?? 'N/A'),
      Number(get(o, 'status.disruptionsAllowed') ?? 0),
      age(o),
    ],
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
  EndpointSlice: {
    columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
    cells: (o) => [
      get(o, 'metadata.name'),
      get(o, 'addressType'),
      arr(o.ports)
        .map((p) => String(p.port ?? ''))
        .join(',') || '<unset>',
      atMostThree(arr(o.endpoints).flatMap((e) => (e.addresses ?? []) as string[])) || '<unset>',
      age(o),
    ],
  },
  Lease: {
    columns: [NAME, col('Holder'), AGE],
    cells: (o) => [get(o, 'metadata.name'), get(o, 'spec.holderIdentity') ?? '', age(o)],
  },
};

/** printJob's STATUS: the finished conditions first, then deletion, suspension, the targets. */
function jobStatus(o: Obj): string {
  const has = (type: string): boolean =>
    arr(get(o, 'status.conditions')).some((c) => c.type === type && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (get(o, 'metadata.deletionTimestamp')) return 'Terminating';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobCompletions(o: Obj): string {
  const succeeded = Number(get(o, 'status.succeeded') ?? 0);
  const completions = get(o, 'spec.completions');
  if (typeof completions === 'number') return `${succeeded}/${completions}`;
  const parallelism = Number(get(o, 'spec.parallelism') ?? 0);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(o: Obj): string {
  const start = get(o, 'status.startTime');
  if (typeof start !== 'string') return '';
  const end = get(o, 'status.completionTime');
  return humanDuration((typeof end === 'string' ? Date.parse(end) : Date.now()) - Date.parse(start));
}

/** The wide columns of workloads: containers, images, selector (metav1.FormatLabelSelector). */
function templateColumns(podSpec: unknown, selector: unknown): string[] {
  const cs = arr(get(podSpec, 'containers'));
  const s = (selector ?? {}) as Obj;
  const parts = [
    ...Object.entries((s.matchLabels ?? {}) as Obj).map(([k, v]) => `${k}=${String(v)}`),
    ...arr(s.matchExpressions).map((e) => {
      const values = ((e.values ?? []) as string[]).join(',');
      const op = String(e.operator);
      if (op === 'Exists') return String(e.key);
      if (op === 'DoesNotExist') return `!${String(e.key)}`;
      return `${String(e.key)} ${op === 'In' ? 'in' : 'notin'} (${values})`;
    }),
  ];
  return [
    cs.map((c) => c.name).join(','),
    cs.map((c) => c.image).join(','),
    selector === undefined ? '<none>' : parts.join(',') || '<none>',
  ];
}

/** The printers' formatEndpoints: three, then "+ N more...". */
function atMostThree(items: string[]): string {
  return items.length > 3 ? `${items.slice(0, 3).join(',')} + ${items.length - 3} more...` : items.join(',');
}

// Kinds without a printer get kube-apiserver's default table: Name and "Created At".
const DEFAULT: Printer = {
  columns: [
    NAME,
    {
      name: 'Created At',
      type: 'date',
      description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
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

// kubectl get columns of the smaller groups: rbac, policy, discovery, coordination and
// apiregistration, as kube-apiserver's printers make them.
import { AGE, NAME, age, arr, atMostThree, col, get, type Obj, type Printer } from './printerParts.js';

export const OTHER_PRINTERS: Record<string, Printer> = {
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

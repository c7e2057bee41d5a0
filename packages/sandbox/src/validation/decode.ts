// What happens while kube-apiserver decodes a body, before validation: unknown fields
// (fieldValidation=Strict refuses them with 400, Warn reports them in a Warning header,
// Ignore drops them) and values the Go types cannot hold (an unparseable quantity is a
// decoding error, so 400, not 422).
import { errors } from '../errors.js';
import { OBJECT_META_FIELDS, isObj, type Obj } from '../storage/objectMeta.js';
import { isQuantity } from './quantity.js';

const COMMON = ['apiVersion', 'kind', 'metadata'];
const SPEC_STATUS = [...COMMON, 'spec', 'status'];
const CORE_EVENT = [
  ...COMMON,
  'involvedObject',
  'reason',
  'message',
  'source',
  'firstTimestamp',
  'lastTimestamp',
  'count',
  'type',
  'eventTime',
  'series',
  'action',
  'related',
  'reportingComponent',
  'reportingInstance',
];

/** Kinds whose spec.template.spec is a PodSpec. */
const TEMPLATED = new Set(['Deployment', 'ReplicaSet', 'DaemonSet', 'ReplicationController', 'Job']);

const TOP: Record<string, string[]> = {
  ConfigMap: [...COMMON, 'data', 'binaryData', 'immutable'],
  Secret: [...COMMON, 'data', 'stringData', 'type', 'immutable'],
  ServiceAccount: [...COMMON, 'secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Role: [...COMMON, 'rules'],
  ClusterRole: [...COMMON, 'rules', 'aggregationRule'],
  RoleBinding: [...COMMON, 'roleRef', 'subjects'],
  ClusterRoleBinding: [...COMMON, 'roleRef', 'subjects'],
  Lease: [...COMMON, 'spec'],
  Endpoints: [...COMMON, 'subsets'],
  EndpointSlice: [...COMMON, 'addressType', 'endpoints', 'ports'],
  'core/Event': CORE_EVENT,
  'events.k8s.io/Event': [
    ...COMMON,
    'eventTime',
    'series',
    'reportingController',
    'reportingInstance',
    'action',
    'reason',
    'regarding',
    'related',
    'note',
    'type',
    'deprecatedSource',
    'deprecatedFirstTimestamp',
    'deprecatedLastTimestamp',
    'deprecatedCount',
  ],
};

const POD_SPEC = [
  'volumes',
  'initContainers',
  'containers',
  'ephemeralContainers',
  'restartPolicy',
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'dnsPolicy',
  'nodeSelector',
  'serviceAccountName',
  'serviceAccount',
  'automountServiceAccountToken',
  'nodeName',
  'hostNetwork',
  'hostPID',
  'hostIPC',
  'shareProcessNamespace',
  'securityContext',
  'imagePullSecrets',
  'hostname',
  'subdomain',
  'affinity',
  'schedulerName',
  'tolerations',
  'hostAliases',
  'priorityClassName',
  'priority',
  'dnsConfig',
  'readinessGates',
  'runtimeClassName',
  'enableServiceLinks',
  'preemptionPolicy',
  'overhead',
  'topologySpreadConstraints',
  'setHostnameAsFQDN',
  'os',
  'hostUsers',
  'schedulingGates',
  'resourceClaims',
  'resources',
];
const CONTAINER = [
  'name',
  'image',
  'command',
  'args',
  'workingDir',
  'ports',
  'envFrom',
  'env',
  'resources',
  'resizePolicy',
  'restartPolicy',
  'volumeMounts',
  'volumeDevices',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'securityContext',
  'stdin',
  'stdinOnce',
  'tty',
  'restartPolicyRules',
];

/** Unknown field paths of `o` (kubernetes' strict decoder wording: "unknown field \"spec.x\""). */
export function unknownFields(kind: string, group: string, o: Obj): string[] {
  const out: string[] = [];
  const top = TOP[kind === 'Event' ? (group ? 'events.k8s.io/Event' : 'core/Event') : kind] ?? SPEC_STATUS;
  for (const k of Object.keys(o)) if (!top.includes(k)) out.push(k);
  if (isObj(o.metadata))
    for (const k of Object.keys(o.metadata)) if (!OBJECT_META_FIELDS.includes(k)) out.push(`metadata.${k}`);
  const podSpec =
    kind === 'Pod'
      ? (['spec', o.spec] as const)
      : TEMPLATED.has(kind)
        ? (['spec.template.spec', isObj(o.spec) && isObj(o.spec.template) ? o.spec.template.spec : undefined] as const)
        : undefined;
  if (podSpec && isObj(podSpec[1])) {
    const [path, spec] = podSpec as [string, Obj];
    for (const k of Object.keys(spec)) if (!POD_SPEC.includes(k)) out.push(`${path}.${k}`);
    for (const list of ['containers', 'initContainers']) {
      const cs = spec[list];
      if (Array.isArray(cs))
        cs.forEach((c, i) => {
          if (isObj(c))
            for (const k of Object.keys(c)) if (!CONTAINER.includes(k)) out.push(`${path}.${list}[${i}].${k}`);
        });
    }
  }
  return out;
}

/** Throws 400 for values that would not decode into the Go types (quantities, metadata shapes). */
export function checkDecodable(kind: string, o: Obj): void {
  const m = o.metadata;
  if (m !== undefined && !isObj(m))
    throw errors.badRequest(
      `json: cannot unmarshal ${typeName(m)} into Go struct field ${kind}.metadata of type v1.ObjectMeta`,
    );
  if (isObj(m)) {
    for (const f of ['labels', 'annotations'] as const) {
      const v = m[f];
      if (v !== undefined && v !== null && (!isObj(v) || Object.values(v).some((x) => typeof x !== 'string'))) {
        throw errors.badRequest(
          `json: cannot unmarshal ${typeName(v)} into Go struct field ObjectMeta.metadata.${f} of type map[string]string`,
        );
      }
    }
    if (m.name !== undefined && typeof m.name !== 'string')
      throw errors.badRequest(
        `json: cannot unmarshal ${typeName(m.name)} into Go struct field ObjectMeta.metadata.name of type string`,
      );
  }
  const specs: unknown[] =
    kind === 'Pod'
      ? [o.spec]
      : TEMPLATED.has(kind)
        ? [isObj(o.spec) && isObj(o.spec.template) ? o.spec.template.spec : undefined]
        : [];
  for (const spec of specs) {
    if (!isObj(spec)) continue;
    for (const list of ['containers', 'initContainers']) {
      const cs = spec[list];
      if (cs !== undefined && !Array.isArray(cs))
        throw errors.badRequest(
          `json: cannot unmarshal ${typeName(cs)} into Go struct field PodSpec.spec.${list} of type []v1.Container`,
        );
      for (const c of (cs as unknown[] | undefined) ?? []) {
        if (!isObj(c) || !isObj(c.resources)) continue;
        for (const section of ['requests', 'limits']) {
          const q = c.resources[section];
          if (!isObj(q)) continue;
          for (const v of Object.values(q)) {
            if (!isQuantity(v))
              throw errors.badRequest(
                `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
              );
          }
        }
      }
    }
  }
  if (isObj(o.spec) && o.spec.replicas !== undefined && !Number.isInteger(o.spec.replicas)) {
    throw errors.badRequest(
      `json: cannot unmarshal ${typeName(o.spec.replicas)} into Go struct field ${kind}Spec.spec.replicas of type int32`,
    );
  }
}

function typeName(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** Drops unknown fields (fieldValidation=Ignore/Warn keep the object decodable, without them). */
export function dropFields(o: Obj, paths: readonly string[]): void {
  for (const p of paths) {
    const parts = p.split('.');
    let cur: unknown = o;
    for (let i = 0; i < parts.length - 1 && cur; i++) {
      const m = /^(.*)\[(\d+)\]$/.exec(parts[i]!);
      cur = m ? ((cur as Obj)[m[1]!] as unknown[])?.[Number(m[2])] : (cur as Obj)[parts[i]!];
    }
    if (isObj(cur)) delete cur[parts[parts.length - 1]!];
  }
}

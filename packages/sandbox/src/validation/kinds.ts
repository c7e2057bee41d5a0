// Per-kind validation on create and update: what kube-apiserver's registry strategies check
// (Validate / ValidateUpdate), reduced to the rules clients meet in practice.
import { fromStructured, matchLabels } from '../selectors/labels.js';
import { validateCronJob, validateJob } from './batch.js';
import { validateJobUpdate } from './jobUpdate.js';
import { validateEndpointSliceAddresses, validateEndpointsAddresses } from './endpointAddresses.js';
import { forbidden, invalid, notSupported, required, type FieldError } from './fieldErrors.js';
import { nameError, validateAnnotations, validateLabels, validateName, type NameRule } from './names.js';
import { validatePodSpec } from './podSpec.js';
import { validateAPIServiceName, validateAPIServiceSpec } from './apiService.js';
import { validateDaemonSetSpec, validateReplicationControllerSpec } from './workloadSpecs.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

const NAME_RULES: Record<string, NameRule> = {
  Namespace: 'label',
  Service: 'label',
  Role: 'path-segment',
  ClusterRole: 'path-segment',
  RoleBinding: 'path-segment',
  ClusterRoleBinding: 'path-segment',
  APIService: 'path-segment',
};

export function validateMeta(kind: string, o: Obj): FieldError[] {
  const m = obj(o.metadata);
  return [
    ...validateName(m, NAME_RULES[kind] ?? 'subdomain'),
    ...validateLabels(m.labels, 'metadata.labels'),
    ...validateAnnotations(m.annotations, 'metadata.annotations'),
    ...arr(m.ownerReferences).flatMap((r, i) =>
      r.uid ? [] : [required(`metadata.ownerReferences[${i}].uid`, 'uid must not be empty')],
    ),
  ];
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
function validateKeys(data: unknown, field: string): FieldError[] {
  return Object.keys(obj(data))
    .filter((k) => !CONFIG_KEY.test(k) || k.length > 253)
    .map((k) =>
      invalid(
        `${field}[${k}]`,
        k,
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      ),
    );
}

function validateSelectorTemplate(spec: Obj): FieldError[] {
  const out: FieldError[] = [];
  const sel = spec.selector as Obj | undefined;
  if (!sel) return [required('spec.selector', '')];
  const reqs = fromStructured(sel);
  if (reqs.length === 0) out.push(invalid('spec.selector', sel, 'empty selector is invalid for deployment'));
  const tmpl = obj(spec.template);
  const labels = obj(obj(tmpl.metadata).labels) as Record<string, string>;
  if (reqs.length && !matchLabels(reqs, labels))
    out.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  if (typeof spec.replicas === 'number' && spec.replicas < 0)
    out.push(invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  out.push(...validateLabels(obj(tmpl.metadata).labels, 'spec.template.metadata.labels'));
  out.push(...validatePodSpec(tmpl.spec as Obj | undefined, 'spec.template.spec', { templateRestartAlways: true }));
  return out;
}

function validateRules(rules: unknown, cluster: boolean): FieldError[] {
  const out: FieldError[] = [];
  arr(rules).forEach((r, i) => {
    const p = `rules[${i}]`;
    if (!arr(r.verbs).length) out.push(required(`${p}.verbs`, 'verbs must contain at least one value'));
    const nonRes = arr(r.nonResourceURLs).length > 0;
    if (nonRes) {
      if (!cluster)
        out.push(
          invalid(`${p}.nonResourceURLs`, r.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'),
        );
      if (arr(r.apiGroups).length || arr(r.resources).length || arr(r.resourceNames).length) {
        out.push(
          invalid(
            `${p}.nonResourceURLs`,
            r.nonResourceURLs,
            'rules cannot apply to both regular resources and non-resource URLs',
          ),
        );
      }
    } else {
      if (!arr(r.apiGroups).length)
        out.push(required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
      if (!arr(r.resources).length)
        out.push(required(`${p}.resources`, 'resource rules must supply at least one resource'));
    }
  });
  return out;
}

function validateBinding(o: Obj, namespaced: boolean): FieldError[] {
  const out: FieldError[] = [];
  const ref = obj(o.roleRef);
  if (ref.apiGroup !== 'rbac.authorization.k8s.io')
    out.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', ['rbac.authorization.k8s.io']));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(String(ref.kind))) out.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) out.push(required('roleRef.name', ''));
  arr(o.subjects).forEach((s, i) => {
    const p = `subjects[${i}]`;
    if (!s.name) out.push(required(`${p}.name`, ''));
    if (!['ServiceAccount', 'User', 'Group'].includes(String(s.kind)))
      out.push(notSupported(`${p}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    if (s.kind === 'ServiceAccount') {
      if (s.name && nameError(String(s.name), 'subdomain'))
        out.push(invalid(`${p}.name`, s.name, nameError(String(s.name), 'subdomain')!));
      if (!namespaced && !s.namespace) out.push(required(`${p}.namespace`, ''));
    }
  });
  return out;
}

/** Validation of a new object (and the spec-level part of an update). */
export function validateObject(kind: string, o: Obj): FieldError[] {
  const out = validateMeta(kind, o);
  const spec = obj(o.spec);
  switch (kind) {
    case 'Pod':
      out.push(...validatePodSpec(o.spec as Obj | undefined, 'spec'));
      break;
    case 'Deployment':
    case 'ReplicaSet':
      out.push(...validateSelectorTemplate(spec));
      break;
    case 'DaemonSet':
      out.push(...validateDaemonSetSpec(spec));
      break;
    case 'ReplicationController':
      out.push(...validateReplicationControllerSpec(spec));
      break;
    case 'APIService':
      out.push(...validateAPIServiceName(o), ...validateAPIServiceSpec(o));
      break;
    case 'Job':
      out.push(...validateJob(o));
      break;
    case 'CronJob':
      out.push(...validateCronJob(o));
      break;
    case 'ConfigMap':
      out.push(...validateKeys(o.data, 'data'), ...validateKeys(o.binaryData, 'binaryData'));
      break;
    case 'Secret':
      out.push(...validateKeys(o.data, 'data'));
      break;
    case 'Role':
      out.push(...validateRules(o.rules, false));
      break;
    case 'ClusterRole':
      out.push(...validateRules(o.rules, true));
      break;
    case 'RoleBinding':
      out.push(...validateBinding(o, true));
      break;
    case 'ClusterRoleBinding':
      out.push(...validateBinding(o, false));
      break;
    case 'Service':
      arr(spec.ports).forEach((p, i) => {
        if (p.port === undefined) out.push(required(`spec.ports[${i}].port`, ''));
        else if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535)
          out.push(invalid(`spec.ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'));
      });
      break;
    case 'Endpoints':
      out.push(...validateEndpointsAddresses(o));
      break;
    case 'EndpointSlice':
      out.push(...validateEndpointSliceAddresses(o));
      break;
    case 'PodDisruptionBudget':
      if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
        out.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
      }
      break;
    case 'Lease': {
      const d = obj(o.spec).leaseDurationSeconds;
      if (typeof d === 'number' && d <= 0) out.push(invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
      break;
    }
  }
  return out;
}

/** Extra rules on update: immutable fields. */
export function validateUpdate(kind: string, next: Obj, prev: Obj): FieldError[] {
  const out = validateObject(kind, next);
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  if ((kind === 'ConfigMap' || kind === 'Secret') && prev.immutable === true) {
    if (!same(next.data, prev.data) || !same(next.binaryData, prev.binaryData))
      out.push(forbidden('data', 'field is immutable when `immutable` is set'));
    if (next.immutable !== true) out.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  }
  if (kind === 'Secret' && prev.type !== next.type) out.push(invalid('type', next.type, 'field is immutable'));
  if ((kind === 'RoleBinding' || kind === 'ClusterRoleBinding') && !same(next.roleRef, prev.roleRef)) {
    out.push(invalid('roleRef', next.roleRef, 'cannot change roleRef'));
  }
  if (
    ['Deployment', 'ReplicaSet', 'DaemonSet'].includes(kind) &&
    !same(obj(next.spec).selector, obj(prev.spec).selector)
  ) {
    out.push(invalid('spec.selector', obj(next.spec).selector, 'field is immutable'));
  }
  if (kind === 'Job') out.push(...validateJobUpdate(next, prev));
  if (kind === 'Pod') out.push(...validatePodUpdate(obj(next.spec), obj(prev.spec)));
  return out;
}

/** ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations and a shorter
 *  terminationGracePeriodSeconds may change once a pod exists. */
function validatePodUpdate(next: Obj, prev: Obj): FieldError[] {
  if (arr(next.containers).length !== arr(prev.containers).length)
    return [forbidden('spec.containers', 'pod updates may not add or remove containers')];
  const mask = (s: Obj): string => {
    const c = structuredClone(s);
    for (const list of ['containers', 'initContainers', 'ephemeralContainers'])
      for (const x of arr(c[list])) delete x.image;
    delete c.activeDeadlineSeconds;
    delete c.tolerations;
    delete c.terminationGracePeriodSeconds;
    delete c.nodeName;
    return JSON.stringify(c);
  };
  if (prev.nodeName && next.nodeName !== prev.nodeName)
    return [
      forbidden(
        'spec',
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      ),
    ];
  if (mask(next) !== mask(prev)) {
    return [
      forbidden(
        'spec',
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      ),
    ];
  }
  return [];
}

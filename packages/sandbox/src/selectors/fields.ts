// Field selectors: only the fields kube-apiserver indexes for each kind (its
// GetAttrs/SelectableFields), everything else is "field label not supported" (400).
import { errors } from '../errors.js';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

type Obj = Record<string, unknown>;
const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((c, k) => (c && typeof c === 'object' ? (c as Obj)[k] : undefined), o);
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** Per kind (core group unless prefixed): the selectable fields beyond metadata.name/namespace. */
const FIELDS: Record<string, Record<string, (o: Obj) => string>> = {
  Pod: {
    'spec.nodeName': (o) => str(get(o, 'spec.nodeName')),
    'spec.restartPolicy': (o) => str(get(o, 'spec.restartPolicy')),
    'spec.schedulerName': (o) => str(get(o, 'spec.schedulerName')),
    'spec.serviceAccountName': (o) => str(get(o, 'spec.serviceAccountName')),
    'spec.hostNetwork': (o) => String(get(o, 'spec.hostNetwork') === true),
    'status.phase': (o) => str(get(o, 'status.phase')),
    'status.podIP': (o) => str(get(o, 'status.podIP')),
    'status.nominatedNodeName': (o) => str(get(o, 'status.nominatedNodeName')),
  },
  Event: {
    'involvedObject.kind': (o) => str(get(o, 'involvedObject.kind')),
    'involvedObject.namespace': (o) => str(get(o, 'involvedObject.namespace')),
    'involvedObject.name': (o) => str(get(o, 'involvedObject.name')),
    'involvedObject.uid': (o) => str(get(o, 'involvedObject.uid')),
    'involvedObject.apiVersion': (o) => str(get(o, 'involvedObject.apiVersion')),
    'involvedObject.resourceVersion': (o) => str(get(o, 'involvedObject.resourceVersion')),
    'involvedObject.fieldPath': (o) => str(get(o, 'involvedObject.fieldPath')),
    reason: (o) => str(o.reason),
    reportingComponent: (o) => str(o.reportingComponent),
    source: (o) => str(get(o, 'source.component')),
    type: (o) => str(o.type),
  },
  Secret: { type: (o) => str(o.type) },
  Node: { 'spec.unschedulable': (o) => String(get(o, 'spec.unschedulable') === true) },
  Namespace: { 'status.phase': (o) => str(get(o, 'status.phase')) },
  ReplicaSet: { 'status.replicas': (o) => str(get(o, 'status.replicas') ?? 0) },
};

/** Splits on unescaped commas and parses each term; "\," "\=" "\\" escape as in fields.ParseSelector. */
export function parseFieldSelector(selector: string, kind: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (!selector.trim()) return out;
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i]!;
    if (c === '\\' && i + 1 < selector.length) {
      cur += c + selector[i + 1];
      i++;
      continue;
    }
    if (c === ',') {
      terms.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  terms.push(cur);
  for (const term of terms) {
    const m = /^(.*?)(!=|==|=)(.*)$/s.exec(term);
    if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = m[1]!.trim();
    const value = m[3]!.replace(/\\(.)/g, '$1');
    if (!supports(kind, field)) throw errors.badRequest(`field label not supported: ${field}`);
    out.push({ field, op: m[2] === '!=' ? '!=' : '=', value });
  }
  return out;
}

function supports(kind: string, field: string): boolean {
  return field === 'metadata.name' || field === 'metadata.namespace' || Boolean(FIELDS[kind]?.[field]);
}

export function fieldValue(kind: string, field: string, obj: Obj): string {
  if (field === 'metadata.name') return str(get(obj, 'metadata.name'));
  if (field === 'metadata.namespace') return str(get(obj, 'metadata.namespace'));
  return FIELDS[kind]?.[field]?.(obj) ?? '';
}

export function matchFields(reqs: readonly FieldRequirement[], kind: string, obj: Obj): boolean {
  return reqs.every((r) => (fieldValue(kind, r.field, obj) === r.value) === (r.op === '='));
}

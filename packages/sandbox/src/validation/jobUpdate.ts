// ValidateJobSpecUpdate and ValidateJobStatusUpdate (pkg/apis/batch/validation): what a Job may
// not change once created, and the status counters, worded as kube-apiserver words them.
// kube-apiserver validates an updated Job as new (ValidateJob) and then as an update, which
// repeats ValidateJobSpec: a broken spec is reported twice, and so it is here.
import { validateJobSpec } from './batch.js';
import { invalid, type FieldError } from './fieldErrors.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const immutable = (field: string, value: unknown): FieldError => invalid(field, value, 'field is immutable');

/** validateCompletions: fixed, except that an Indexed Job scales by changing completions and
 *  parallelism together (elastic indexed Jobs). */
function completionsErrors(spec: Obj, old: Obj): FieldError[] {
  if (same(spec.completions, old.completions)) return [];
  if (spec.completionMode !== 'Indexed') return [immutable('spec.completions', spec.completions)];
  if (spec.completions === undefined || spec.completions === spec.parallelism) return [];
  return [invalid('spec.completions', spec.completions, 'can only be modified in tandem with spec.parallelism')];
}

/** The node affinity of `next` over `old`'s other affinities, as validatePodTemplateUpdate does. */
function withNodeAffinity(old: unknown, next: unknown): unknown {
  if (next === undefined) {
    if (old === undefined) return undefined;
    const { nodeAffinity: _n, ...rest } = obj(old);
    return Object.keys(rest).length ? rest : undefined;
  }
  return { ...obj(old), nodeAffinity: obj(next).nodeAffinity };
}

/** validatePodTemplateUpdate: a suspended Job that never started may change where its pods
 *  go (node selector, node affinity, tolerations, scheduling gates, labels, annotations). */
function templateErrors(spec: Obj, old: Obj, oldStatus: Obj): FieldError[] {
  const template = obj(spec.template);
  let before = obj(old.template);
  if (old.suspend === true && oldStatus.startTime === undefined) {
    const podSpec = obj(template.spec);
    const oldPodSpec: Obj = {
      ...obj(before.spec),
      affinity: withNodeAffinity(obj(before.spec).affinity, podSpec.affinity),
    };
    for (const k of ['nodeSelector', 'tolerations', 'schedulingGates']) oldPodSpec[k] = podSpec[k];
    const meta = obj(template.metadata);
    before = {
      ...before,
      metadata: { ...obj(before.metadata), labels: meta.labels, annotations: meta.annotations },
      spec: oldPodSpec,
    };
  }
  return sameTemplate(template, before) ? [] : [immutable('spec.template', spec.template)];
}

/** Key order does not matter to Go's comparison of the decoded structs. */
function sameTemplate(a: unknown, b: unknown): boolean {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v as Obj)
              .filter(([, x]) => x !== undefined)
              .sort(([x], [y]) => (x < y ? -1 : 1))
              .map(([k, x]) => [k, canonical(x)]),
          )
        : v;
  return same(canonical(a), canonical(b));
}

const IMMUTABLE = [
  'selector',
  'completionMode',
  'podFailurePolicy',
  'backoffLimitPerIndex',
  'managedBy',
  'successPolicy',
];

export function validateJobUpdate(next: Obj, prev: Obj): FieldError[] {
  const spec = obj(next.spec);
  const old = obj(prev.spec);
  const out = validateJobSpec(spec, 'spec');
  out.push(...completionsErrors(spec, old));
  out.push(...templateErrors(spec, old, obj(prev.status)));
  for (const k of IMMUTABLE) if (!same(spec[k], old[k])) out.push(immutable(`spec.${k}`, spec[k]));
  out.push(...validateJobStatusUpdate(obj(next.status), obj(prev.status)));
  return out;
}

/** The counters are never negative, and failed and succeeded never go down. A write of the
 *  Job itself keeps the stored status, so these only ever refuse a status write. */
function validateJobStatusUpdate(status: Obj, old: Obj): FieldError[] {
  const out: FieldError[] = [];
  for (const k of ['active', 'succeeded', 'failed', 'ready', 'terminating']) {
    const v = status[k];
    if (typeof v === 'number' && v < 0) out.push(invalid(`status.${k}`, v, 'must be greater than or equal to 0'));
  }
  for (const k of ['failed', 'succeeded']) {
    const v = Number(status[k] ?? 0);
    if (v < Number(old[k] ?? 0)) out.push(invalid(`status.${k}`, v, `cannot decrease the ${k} counter`));
  }
  return out;
}

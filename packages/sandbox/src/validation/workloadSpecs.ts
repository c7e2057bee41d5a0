// Validation of the DaemonSet and ReplicationController specs, as kube-apiserver's
// ValidateDaemonSetSpec (apps) and ValidateReplicationControllerSpec (core) check them.
import { fromStructured, matchLabels, type LabelRequirement } from '../selectors/labels.js';
import { invalid, notSupported, required, type FieldError } from './fieldErrors.js';
import { validateLabels } from './names.js';
import { validatePodSpec } from './podSpec.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const MISMATCH = '`selector` does not match template `labels`';

function nonNegative(spec: Obj, field: string): FieldError[] {
  const v = spec[field];
  return typeof v === 'number' && v < 0 ? [invalid(`spec.${field}`, v, 'must be greater than or equal to 0')] : [];
}

function template(spec: Obj, reqs: LabelRequirement[] | undefined): FieldError[] {
  const meta = obj(obj(spec.template).metadata);
  const labels = meta.labels as Record<string, string> | undefined;
  // A nil selector matches nothing (metav1.LabelSelectorAsSelector), so it fails this check.
  const mismatch = reqs !== undefined && (reqs.length === 0 || !matchLabels(reqs, labels ?? {}));
  return [
    ...(mismatch ? [invalid('spec.template.metadata.labels', labels ?? null, MISMATCH)] : []),
    ...validateLabels(labels, 'spec.template.metadata.labels'),
    ...validatePodSpec(obj(spec.template).spec as Obj | undefined, 'spec.template.spec', {
      templateRestartAlways: true,
    }),
  ];
}

/** An int-or-percent as getIntOrPercentValue reads it (percent → its number). */
function intOrPercent(v: unknown): number {
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(String(v ?? '0'));
  return m ? Number(m[1]) : 0;
}

function rollingUpdate(ru: Obj): FieldError[] {
  const p = 'spec.updateStrategy.rollingUpdate';
  const out: FieldError[] = [];
  for (const f of ['maxUnavailable', 'maxSurge']) {
    const v = ru[f];
    if (v === undefined) continue;
    if (intOrPercent(v) < 0) out.push(invalid(`${p}.${f}`, v, 'must be greater than or equal to 0'));
    else if (typeof v === 'string' && intOrPercent(v) > 100)
      out.push(invalid(`${p}.${f}`, v, 'must not be greater than 100%'));
  }
  const unavailable = intOrPercent(ru.maxUnavailable) !== 0;
  const surge = intOrPercent(ru.maxSurge) !== 0;
  if (unavailable && surge)
    out.push(invalid(`${p}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
  if (!unavailable && !surge) out.push(required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
  return out;
}

export function validateDaemonSetSpec(spec: Obj): FieldError[] {
  const sel = spec.selector === undefined || spec.selector === null ? undefined : obj(spec.selector);
  const reqs = sel ? fromStructured(sel) : [];
  const out: FieldError[] = [];
  if (sel && reqs.length === 0) out.push(invalid('spec.selector', sel, 'empty selector is invalid for daemonset'));
  // An empty selector matches everything; only the error above is reported for it.
  out.push(...template(spec, sel && reqs.length === 0 ? undefined : reqs));
  const strategy = obj(spec.updateStrategy);
  if (strategy.type === 'RollingUpdate') out.push(...rollingUpdate(obj(strategy.rollingUpdate)));
  else if (strategy.type !== 'OnDelete')
    out.push(
      notSupported(
        'spec.updateStrategy',
        { Type: strategy.type ?? '', RollingUpdate: strategy.rollingUpdate ?? null },
        ['RollingUpdate', 'OnDelete'],
      ),
    );
  out.push(...nonNegative(spec, 'minReadySeconds'), ...nonNegative(spec, 'revisionHistoryLimit'));
  return out;
}

export function validateReplicationControllerSpec(spec: Obj): FieldError[] {
  const selector = obj(spec.selector) as Record<string, string>;
  const out: FieldError[] = [...nonNegative(spec, 'minReadySeconds')];
  if (Object.keys(selector).length === 0) out.push(required('spec.selector'));
  out.push(...nonNegative(spec, 'replicas'));
  if (!spec.template) return [...out, required('spec.template')];
  const reqs = fromStructured({ matchLabels: selector });
  out.push(...template(spec, reqs.length ? reqs : undefined));
  return out;
}

// Validation of batch/v1 Jobs and CronJobs (pkg/apis/batch/validation), worded as kube-apiserver
// words it: a Job's pods may only restart OnFailure or Never, counts are non-negative, the
// selector must select the template (and be the generated one unless manualSelector), and a
// CronJob's schedule must parse and its timeZone exist.
import { parseCron } from '../cron/schedule.js';
import { isKnownTimeZone } from '../cron/zonedTime.js';
import { fromStructured, matchLabels } from '../selectors/labels.js';
import { invalid, notSupported, required, type FieldError } from './fieldErrors.js';
import { validateLabels } from './names.js';
import { validatePodSpec } from './podSpec.js';
import { validatePodFailurePolicy } from './podFailurePolicy.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';

function nonNegative(spec: Obj, path: string, fields: string[]): FieldError[] {
  return fields.flatMap((f) => {
    const v = spec[f];
    return typeof v === 'number' && v < 0 ? [invalid(`${path}.${f}`, v, 'must be greater than or equal to 0')] : [];
  });
}

/** ValidateJobSpec for a Job (path `spec`) or a CronJob's job template (`spec.jobTemplate.spec`). */
function validateJobSpec(spec: Obj, path: string, uid: unknown): FieldError[] {
  const out = nonNegative(spec, path, [
    'parallelism',
    'completions',
    'activeDeadlineSeconds',
    'backoffLimit',
    'ttlSecondsAfterFinished',
  ]);
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed')
    out.push(notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed' && spec.completions === undefined)
    out.push(required(`${path}.completions`, 'when completion mode is Indexed'));
  const prp = spec.podReplacementPolicy;
  if (prp !== undefined && prp !== 'TerminatingOrFailed' && prp !== 'Failed')
    out.push(notSupported(`${path}.podReplacementPolicy`, prp, ['TerminatingOrFailed', 'Failed']));
  const tmpl = obj(spec.template);
  const tmplLabels = obj(obj(tmpl.metadata).labels) as Record<string, string>;
  if (spec.selector !== undefined) {
    const reqs = fromStructured(obj(spec.selector));
    if (reqs.length && !matchLabels(reqs, tmplLabels))
      out.push(invalid(`${path}.template.metadata.labels`, tmplLabels, '`selector` does not match template `labels`'));
    if (
      uid !== undefined &&
      spec.manualSelector !== true &&
      !matchLabels(reqs, { [CONTROLLER_UID_LABEL]: String(uid) })
    )
      out.push(invalid(`${path}.selector`, spec.selector, '`selector` not auto-generated'));
  } else if (uid !== undefined) out.push(required(`${path}.selector`, ''));
  out.push(...validateLabels(obj(tmpl.metadata).labels, `${path}.template.metadata.labels`));
  const podSpec = tmpl.spec as Obj | undefined;
  out.push(...validatePodSpec(podSpec, `${path}.template.spec`));
  const rp = obj(podSpec).restartPolicy;
  if (rp !== 'OnFailure' && rp !== 'Never')
    out.push(required(`${path}.template.spec.restartPolicy`, 'valid values: "OnFailure", "Never"'));
  if (spec.podFailurePolicy !== undefined) {
    out.push(...validatePodFailurePolicy(obj(spec.podFailurePolicy), `${path}.podFailurePolicy`));
    if (rp === 'OnFailure')
      out.push(
        invalid(
          `${path}.template.spec.restartPolicy`,
          rp,
          'only "Never" is supported when podFailurePolicy is specified',
        ),
      );
  }
  return out;
}

export function validateJob(job: Obj): FieldError[] {
  return validateJobSpec(obj(job.spec), 'spec', obj(job.metadata).uid);
}

function validateTimeZone(tz: unknown): FieldError[] {
  if (tz === undefined || tz === null) return [];
  const name = String(tz);
  if (name === '') return [invalid('spec.timeZone', tz, 'timeZone must be nil or non-empty string')];
  if (name.toLowerCase() === 'local')
    return [
      invalid(
        'spec.timeZone',
        tz,
        'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
      ),
    ];
  return isKnownTimeZone(name) ? [] : [invalid('spec.timeZone', tz, `unknown time zone ${name}`)];
}

export function validateSchedule(schedule: unknown): FieldError[] {
  if (typeof schedule !== 'string' || schedule === '') return [required('spec.schedule', '')];
  if (/(^|\s)(CRON_)?TZ=/.test(schedule))
    return [invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead')];
  try {
    parseCron(schedule);
    return [];
  } catch (err) {
    return [invalid('spec.schedule', schedule, (err as Error).message)];
  }
}

export function validateCronJob(cj: Obj): FieldError[] {
  const spec = obj(cj.spec);
  const out = [...validateSchedule(spec.schedule), ...validateTimeZone(spec.timeZone)];
  out.push(
    ...nonNegative(spec, 'spec', ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']),
  );
  const cp = spec.concurrencyPolicy;
  if (cp !== undefined && !['Allow', 'Forbid', 'Replace'].includes(String(cp)))
    out.push(notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
  const template = obj(spec.jobTemplate);
  out.push(...validateLabels(obj(template.metadata).labels, 'spec.jobTemplate.metadata.labels'));
  out.push(...validateJobSpec(obj(template.spec), 'spec.jobTemplate.spec', undefined));
  return out;
}

/** ValidateJobUpdate: the selector and (for a Job that is not suspended) the pod template are fixed. */
export function validateJobUpdate(next: Obj, prev: Obj): FieldError[] {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const n = obj(next.spec),
    p = obj(prev.spec);
  const out: FieldError[] = [];
  if (!same(n.selector, p.selector)) out.push(invalid('spec.selector', n.selector, 'field is immutable'));
  if (!same(n.completionMode, p.completionMode))
    out.push(invalid('spec.completionMode', n.completionMode, 'field is immutable'));
  if (!same(n.template, p.template) && p.suspend !== true)
    out.push(invalid('spec.template', n.template, 'field is immutable'));
  return out;
}

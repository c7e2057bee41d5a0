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

/** validateJobSpec: what a Job's spec and a CronJob's job template share (no selector rules). */
function validateJobSpecBody(spec: Obj, path: string): FieldError[] {
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
  if (spec.podFailurePolicy !== undefined)
    out.push(...validatePodFailurePolicy(obj(spec.podFailurePolicy), `${path}.podFailurePolicy`, spec));
  const prp = spec.podReplacementPolicy;
  if (prp !== undefined) {
    const allowed = spec.podFailurePolicy !== undefined ? ['Failed'] : ['Failed', 'TerminatingOrFailed'];
    if (!allowed.includes(String(prp))) out.push(notSupported(`${path}.podReplacementPolicy`, prp, allowed));
  }
  const tmpl = obj(spec.template);
  out.push(...validateLabels(obj(tmpl.metadata).labels, `${path}.template.metadata.labels`));
  const podSpec = tmpl.spec as Obj | undefined;
  out.push(...validatePodSpec(podSpec, `${path}.template.spec`));
  const rp = obj(podSpec).restartPolicy;
  const rpPath = `${path}.template.spec.restartPolicy`;
  // Pod defaulting turns a missing restartPolicy into Always, so both are "required".
  if (rp === undefined || rp === '' || rp === 'Always')
    out.push(required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (rp !== 'OnFailure' && rp !== 'Never') out.push(notSupported(rpPath, rp, ['OnFailure', 'Never']));
  else if (spec.podFailurePolicy !== undefined && rp !== 'Never')
    out.push(invalid(rpPath, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  return out;
}

/** ValidateJobSpec: the body, and a selector that is present and selects the template. */
export function validateJobSpec(spec: Obj, path: string): FieldError[] {
  const out = validateJobSpecBody(spec, path);
  if (spec.selector === undefined) {
    out.push(required(`${path}.selector`, ''));
    return out;
  }
  const tmplLabels = obj(obj(obj(spec.template).metadata).labels) as Record<string, string>;
  if (!matchLabels(fromStructured(obj(spec.selector)), tmplLabels))
    out.push(invalid(`${path}.template.metadata.labels`, tmplLabels, '`selector` does not match template `labels`'));
  return out;
}

/** validateGeneratedSelector: unless manualSelector, the selector is the one made from the uid. */
function validateGeneratedSelector(job: Obj): FieldError[] {
  const spec = obj(job.spec);
  if (spec.manualSelector === true || spec.selector === undefined) return [];
  const uid = obj(job.metadata).uid;
  if (uid === undefined) return [];
  return matchLabels(fromStructured(obj(spec.selector)), { [CONTROLLER_UID_LABEL]: String(uid) })
    ? []
    : [invalid('spec.selector', spec.selector, '`selector` not auto-generated')];
}

export function validateJob(job: Obj): FieldError[] {
  return [...validateGeneratedSelector(job), ...validateJobSpec(obj(job.spec), 'spec')];
}

/** ValidateJobTemplateSpec: the selector is always generated, so none may be given. */
function validateJobTemplateSpec(spec: Obj, path: string): FieldError[] {
  const out = validateJobSpecBody(spec, path);
  if (spec.selector !== undefined)
    out.push(invalid(`${path}.selector`, spec.selector, '`selector` will be auto-generated'));
  if (spec.manualSelector === true)
    out.push(notSupported(`${path}.manualSelector`, spec.manualSelector, ['nil', 'false']));
  return out;
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
  out.push(...validateJobTemplateSpec(obj(template.spec), 'spec.jobTemplate.spec'));
  return out;
}

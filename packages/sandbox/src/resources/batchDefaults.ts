// Defaults of batch/v1 (SetDefaults_Job, SetDefaults_CronJob) and the Job strategy's generated
// selector. kube-apiserver generates the selector while validating a new Job, from its uid, and
// applies SetDefaults_Job again when it reads the Job back, which is why a Job without labels
// answers with its template's (generated) labels.
type Obj = Record<string, unknown>;
const child = (o: Obj, k: string): Obj => {
  const v = o[k];
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Obj;
  const n: Obj = {};
  o[k] = n;
  return n;
};
const setDefault = (o: Obj, k: string, v: unknown): void => {
  if (o[k] === undefined) o[k] = v;
};

export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';

/** generateSelector (pkg/registry/batch/job/strategy.go): labels the template with the Job's
 *  name and uid (keeping labels the user set) and selects on the uid. */
function generateSelector(job: Obj): void {
  const meta = child(job, 'metadata');
  const spec = child(job, 'spec');
  const labels = child(child(child(spec, 'template'), 'metadata'), 'labels') as Record<string, unknown>;
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) setDefault(labels, k, String(meta.name ?? ''));
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) setDefault(labels, k, String(meta.uid ?? ''));
  const matchLabels = child(child(spec, 'selector'), 'matchLabels');
  setDefault(matchLabels, CONTROLLER_UID_LABEL, String(meta.uid ?? ''));
}

export function defaultJob(job: Obj, defaultPodTemplate: (spec: Obj) => void): void {
  const meta = child(job, 'metadata');
  const spec = child(job, 'spec');
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  const pfp = spec.podFailurePolicy as Obj | undefined;
  for (const rule of Array.isArray(pfp?.rules) ? (pfp.rules as Obj[]) : [])
    for (const c of Array.isArray(rule.onPodConditions) ? (rule.onPodConditions as Obj[]) : [])
      setDefault(c, 'status', 'True');
  setDefault(spec, 'podReplacementPolicy', pfp ? 'Failed' : 'TerminatingOrFailed');
  defaultPodTemplate(child(child(spec, 'template'), 'spec'));
  // Only a new Job (no resourceVersion yet) gets its selector generated, as in the strategy's Validate.
  const isNew = meta.resourceVersion === undefined && meta.uid !== undefined;
  if (isNew) {
    setDefault(spec, 'manualSelector', false);
    if (spec.manualSelector !== true) generateSelector(job);
  }
  const templateLabels = (child(spec, 'template').metadata as Obj | undefined)?.labels as Obj | undefined;
  if (templateLabels && Object.keys((meta.labels as Obj | undefined) ?? {}).length === 0)
    meta.labels = { ...templateLabels };
}

export function defaultCronJob(cj: Obj, defaultPodTemplate: (spec: Obj) => void): void {
  const spec = child(cj, 'spec');
  setDefault(spec, 'concurrencyPolicy', 'Allow');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'successfulJobsHistoryLimit', 3);
  setDefault(spec, 'failedJobsHistoryLimit', 1);
  // A CronJob's job template gets the pod defaults but not SetDefaults_Job (the reference answers so).
  // Its two ObjectMetas are structs, never omitted: kube-apiserver writes them as `metadata: {}`.
  const jobTemplate = child(spec, 'jobTemplate');
  child(jobTemplate, 'metadata');
  const podTemplate = child(child(jobTemplate, 'spec'), 'template');
  child(podTemplate, 'metadata');
  defaultPodTemplate(child(podTemplate, 'spec'));
}

// kubectl get columns of batch/v1 Jobs and CronJobs, as kube-apiserver's printers make them
// (printJob, printCronJob), with their descriptions.
import {
  AGE,
  NAME,
  age,
  arr,
  col,
  get,
  humanDuration,
  labelSelector,
  templateWide,
  wideColumns,
  type Obj,
  type Printer,
} from './printerParts.js';

// The batch/v1 field docs (SwaggerDoc) the printers use as column descriptions.
const JOB_SELECTOR_DOC =
  'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors';
const TIME_ZONE_DOC =
  'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones';

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

export const BATCH_PRINTERS: Record<string, Printer> = {
  Job: {
    columns: [
      NAME,
      col('Status', 'string', 0, 'Status of the job.'),
      col(
        'Completions',
        'string',
        0,
        'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.',
      ),
      col('Duration', 'string', 0, 'Time required to complete the job.'),
      AGE,
      ...wideColumns(JOB_SELECTOR_DOC),
    ],
    cells: (o) => [
      get(o, 'metadata.name'),
      jobStatus(o),
      jobCompletions(o),
      jobDuration(o),
      age(o),
      ...templateWide(get(o, 'spec.template.spec'), labelSelector(get(o, 'spec.selector'))),
    ],
  },
  CronJob: {
    columns: [
      NAME,
      col('Schedule', 'string', 0, 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      col('Timezone', 'string', 0, TIME_ZONE_DOC),
      col(
        'Suspend',
        'boolean',
        0,
        'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.',
      ),
      col('Active', 'integer', 0, 'A list of pointers to currently running jobs.'),
      col('Last Schedule', 'string', 0, 'Information when was the last time the job was successfully scheduled.'),
      AGE,
      ...wideColumns(JOB_SELECTOR_DOC),
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
        ...templateWide(
          get(o, 'spec.jobTemplate.spec.template.spec'),
          labelSelector(get(o, 'spec.jobTemplate.spec.selector')),
        ),
      ];
    },
  },
};

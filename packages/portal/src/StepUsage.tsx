import { useEffect, useState } from 'react';
import type { LongshoreClient, Project, StepRun, StepUsage } from '@longshore/client';
import { DataTable, type Column } from './DataTable.js';
import { formatSeconds } from './durations.js';
import { ErrorMessage } from './ErrorMessage.js';
import { formatCpu, formatMemory } from './quantities.js';
import { UsageChart } from './usageChart.js';
import {
  oomKilledRuns,
  peakCpu,
  peakMemory,
  recommendationText,
  requestedText,
  throttledRuns,
} from './usageFigures.js';
import './StepUsage.css';

const none = <span className="none">—</span>;
const count = (n: number) => (n > 0 ? n : none);

const stepColumns: Column<StepUsage>[] = [
  { header: 'Step', cell: (s) => s.step },
  { header: 'Runs', cell: (s) => s.runs.length },
  { header: 'Requests', cell: requestedText },
  { header: 'Peak CPU', cell: (s) => (s.runs.length > 0 ? formatCpu(peakCpu(s)) : none) },
  { header: 'Peak memory', cell: (s) => (s.runs.length > 0 ? formatMemory(peakMemory(s)) : none) },
  { header: 'OOM-killed', cell: (s) => count(oomKilledRuns(s)) },
  { header: 'Throttled', cell: (s) => count(throttledRuns(s)) },
  { header: 'Recommended', cell: recommendationText },
];

const runColumns: Column<StepRun>[] = [
  {
    header: 'Ended',
    cell: (r) => <time dateTime={r.recordedAt}>{new Date(r.recordedAt).toLocaleString()}</time>,
  },
  { header: 'Peak CPU', cell: (r) => formatCpu(r.peakCpuMillis) },
  { header: 'Mean CPU', cell: (r) => formatCpu(r.meanCpuMillis) },
  { header: 'Peak memory', cell: (r) => formatMemory(r.peakMemoryBytes) },
  { header: 'Requested', cell: (r) => `${formatCpu(r.requests.cpuMillis)}, ${formatMemory(r.requests.memoryBytes)}` },
  { header: 'Duration', cell: (r) => formatSeconds(r.durationSeconds) },
  { header: 'Pool', cell: (r) => r.pool },
  {
    header: 'Outcome',
    cell: (r) => [r.oomKilled ? 'OOM-killed' : '', r.throttled ? 'throttled' : ''].filter(Boolean).join(', ') || 'fit',
  },
];

/** One step's runs: the chart, the same figures as a table, and how the recommendation came from them. */
function StepRuns(props: { usage: StepUsage; headingId: string }) {
  const { usage, headingId } = props;
  const learning = usage.recommendation.state === 'learning';
  return (
    <div className="step-usage">
      <h3 id={headingId}>
        {usage.step}: the last {usage.runs.length} {usage.runs.length === 1 ? 'run' : 'runs'}
      </h3>
      <div className="usage-figure">
        <UsageChart usage={usage} />
        <ul className="usage-legend" aria-hidden="true">
          <li>
            <span className="usage-swatch usage-swatch-peak" /> a run&apos;s peak
          </li>
          <li>
            <span className="usage-swatch usage-swatch-killed" /> OOM-killed (✕)
          </li>
          <li>
            <span className="usage-key-request" /> requested now
          </li>
          <li>
            <span className="usage-key-recommended" /> recommended{learning ? ' (learning)' : ''}
          </li>
        </ul>
      </div>
      <details>
        <summary>The runs in figures, oldest first</summary>
        <DataTable labelledBy={headingId} columns={runColumns} rows={usage.runs} rowKey={(r) => r.operationId} />
      </details>
      <details>
        <summary>How the recommendation is made</summary>
        <p className="usage-method">{usage.recommendation.method}</p>
      </details>
    </div>
  );
}

/**
 * What each step's script pods used on Kubernetes workers (right-sizing), beside what the step
 * requests and what it should: read again whenever the project changes, as a saved process may
 * set a step to `auto`.
 */
export function StepUsageSection(props: { client: LongshoreClient; project: Project }) {
  const { client, project } = props;
  const [usage, setUsage] = useState<StepUsage[] | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    const abort = new AbortController();
    client.projects.stepUsage(project.name, abort.signal).then(
      (items) => {
        setUsage(items);
        setError(undefined);
      },
      (err: unknown) => abort.signal.aborted || setError((err as Error).message),
    );
    return () => abort.abort();
  }, [client, project]);

  const measured = usage?.some((s) => s.runs.length > 0);
  return (
    <section className="card" aria-labelledby="usage-heading">
      <h2 id="usage-heading">Resource usage</h2>
      <ErrorMessage message={error} />
      {usage && !measured && (
        <p className="empty">No measured runs yet: usage is measured on Kubernetes workers while script pods run.</p>
      )}
      {usage && measured && (
        <>
          <DataTable labelledBy="usage-heading" columns={stepColumns} rows={usage} rowKey={(s) => s.step} />
          {usage.map((s, i) => s.runs.length > 0 && <StepRuns key={s.step} usage={s} headingId={`usage-step-${i}`} />)}
        </>
      )}
    </section>
  );
}

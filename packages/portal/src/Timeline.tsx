import type { Task, TaskOperation } from '@longshore/client';
import { formatSeconds } from './durations.js';
import './timeline.css';

type Phase = 'queued' | 'pending' | 'running';

interface Segment {
  phase: Phase;
  from: number;
  to: number;
}

const time = (iso: string | null): number | undefined => (iso ? Date.parse(iso) : undefined);

/**
 * Where an operation's time went: in its pool's queue until a worker took it, pending on the
 * worker until its script began (a free slot, a node the autoscaler adds, an image pull), then
 * running until it ended. A phase not reached yet is left out; one under way ends now.
 */
export function segmentsOf(op: TaskOperation, now: number): Segment[] {
  const queued = time(op.queuedAt) ?? time(op.createdAt)!;
  const leased = time(op.leasedAt) ?? time(op.startedAt);
  const script = time(op.scriptStartedAt);
  const end = time(op.finishedAt) ?? now;
  const segments: Segment[] = [{ phase: 'queued', from: queued, to: leased ?? script ?? end }];
  if (leased !== undefined) segments.push({ phase: 'pending', from: leased, to: script ?? end });
  if (script !== undefined) segments.push({ phase: 'running', from: script, to: end });
  return segments.map((s) => ({ ...s, to: Math.max(s.from, s.to) }));
}

/**
 * The deployment at a glance: one bar per step and target on a shared time axis, split into
 * queued, pending and running. Each row also says its phases in words (what a screen reader
 * reads, and exact figures for everyone); `waiting` is the latest thing the worker said while
 * an operation is still pending (a pending explanation).
 */
export function Timeline(props: { task: Task; now: number; waiting: ReadonlyMap<string, string> }) {
  const { task, now, waiting } = props;
  const rows = task.steps.flatMap((step) =>
    step.operations.map((op) => ({ step: step.name, op, segments: segmentsOf(op, now) })),
  );
  if (rows.length === 0) return null;
  const start = Math.min(...rows.map((r) => r.segments[0]!.from));
  const end = Math.max(start + 1, ...rows.map((r) => r.segments[r.segments.length - 1]!.to));
  const percent = (t: number) => `${(((t - start) / (end - start)) * 100).toFixed(3)}%`;
  return (
    <section aria-labelledby="timeline-heading" className="timeline">
      <h2 id="timeline-heading">Timeline</h2>
      <p className="timeline-legend" aria-hidden="true">
        <span className="swatch segment-queued" /> queued <span className="swatch segment-pending" /> pending{' '}
        <span className="swatch segment-running" /> running · {formatSeconds((end - start) / 1000)} in all
      </p>
      <ol>
        {rows.map(({ step, op, segments }) => {
          const name = `${step}${op.target ? ` · ${op.target}` : ''}`;
          const pendingNow = segments.at(-1)?.phase === 'pending' && !op.finishedAt;
          return (
            <li key={op.id} className="timeline-row" data-operation={op.id}>
              <span className="timeline-name">{name}</span>
              <span className="timeline-bar" aria-hidden="true">
                {segments.map((s) => (
                  <span
                    key={s.phase}
                    className={`segment segment-${s.phase}`}
                    style={{ left: percent(s.from), width: percent(start + (s.to - s.from)) }}
                    title={`${name}: ${s.phase} ${formatSeconds((s.to - s.from) / 1000)}`}
                  />
                ))}
              </span>
              <span className="timeline-figures">
                {segments.map((s) => `${s.phase} ${formatSeconds((s.to - s.from) / 1000)}`).join(' · ')}
                {op.outcome ? ` · ${op.outcome}` : ''}
              </span>
              {pendingNow && waiting.get(op.id) && (
                <span className="timeline-waiting" aria-live="polite">
                  {waiting.get(op.id)}
                </span>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

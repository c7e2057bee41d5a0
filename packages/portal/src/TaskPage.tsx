import { useEffect, useRef, useState } from 'react';
import { isErrorCode, type LongshoreClient, type Task, type TaskLogLine } from '@longshore/client';
import { useAccess } from './Access.js';
import { Link } from './Link.js';
import { LogView } from './LogView.js';
import { ErrorMessage } from './ErrorMessage.js';
import { duration } from './durations.js';
import { Timeline } from './Timeline.js';
import { OutputVariables } from './OutputVariables.js';

const ACTIVE = new Set(['queued', 'running', 'cancelling']);

interface LogGroup {
  key: string;
  step: string | undefined;
  target: string | undefined;
  lines: TaskLogLine[];
}

const groupKey = (line: TaskLogLine) => `${line.step ?? ''}\u0000${line.target ?? ''}`;

/** What the task's step (and target) says of a group: its state, duration, worker and script pod. */
function groupSummary(task: Task | undefined, group: LogGroup): string {
  const step = task?.steps.find((s) => s.name === group.step);
  const operation = step?.operations.find((o) => (o.target ?? undefined) === group.target) ?? step?.operations[0];
  if (!operation) return '';
  const state = operation.outcome ?? operation.state;
  const worker = operation.worker ? ` on ${operation.worker}` : '';
  const pod = operation.scriptPod ? ` in pod ${operation.scriptPod}` : '';
  return ` — ${state}${operation.startedAt ? `, ${duration(operation.startedAt, operation.finishedAt)}` : ''}${worker}${pod}`;
}

/**
 * A task and its live log, grouped by step and target in the order they first spoke. Lines
 * arrive over server-sent events (the client resumes a dropped stream from its cursor) and are
 * drawn once per animation frame, however fast they come.
 */
export function TaskPage(props: { client: LongshoreClient; taskId: string; onUnauthenticated: () => void }) {
  const { client, taskId, onUnauthenticated } = props;
  const { may } = useAccess();
  const [task, setTask] = useState<Task | undefined>();
  const [groups, setGroups] = useState<LogGroup[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [cancelError, setCancelError] = useState<string | undefined>();
  const pending = useRef<TaskLogLine[]>([]);
  /** The latest line each operation's worker wrote of its own (a pending explanation while it waits). */
  const [waiting, setWaiting] = useState<ReadonlyMap<string, string>>(new Map());
  const active = task !== undefined && ACTIVE.has(task.state);
  const now = useNow(active);

  useEffect(() => {
    const abort = new AbortController();
    let frame = 0;
    const flush = () => {
      frame = 0;
      const arrived = pending.current.splice(0);
      const said = arrived.filter((l) => l.stream === 'system' && l.operationId);
      if (said.length)
        setWaiting((current) => new Map([...current, ...said.map((l) => [l.operationId!, l.text] as const)]));
      setGroups((current) => {
        // One new array per group per frame, not per line: 100,000 lines must not cost 100,000 copies.
        const byKey = new Map<string, TaskLogLine[]>();
        for (const line of arrived) {
          const key = groupKey(line);
          const batch = byKey.get(key);
          if (batch) batch.push(line);
          else byKey.set(key, [line]);
        }
        const next = current.map((g) => {
          const batch = byKey.get(g.key);
          if (!batch) return g;
          byKey.delete(g.key);
          return { ...g, lines: g.lines.concat(batch) };
        });
        for (const [key, batch] of byKey)
          next.push({ key, step: batch[0]!.step, target: batch[0]!.target, lines: batch });
        return next;
      });
    };
    const fail = (err: unknown) => {
      if (abort.signal.aborted) return;
      if (isErrorCode(err, 'UNAUTHENTICATED')) onUnauthenticated();
      else setError((err as Error).message);
    };
    setGroups([]);
    setWaiting(new Map());
    client.tasks.get(taskId, abort.signal).then(setTask, fail);
    client.tasks
      .follow(
        taskId,
        {
          onLine: (line) => {
            pending.current.push(line);
            frame ||= requestAnimationFrame(flush);
          },
          onTask: setTask,
        },
        abort.signal,
      )
      // The final read fails as the rest do: leaving the page as the task ends aborts it, which is no error.
      .then(() => client.tasks.get(taskId, abort.signal))
      .then(setTask, fail);
    return () => {
      abort.abort();
      cancelAnimationFrame(frame);
      pending.current = [];
    };
  }, [client, taskId, onUnauthenticated]);

  const cancel = async () => {
    setCancelError(undefined);
    try {
      setTask(await client.tasks.cancel(taskId));
    } catch (err) {
      setCancelError((err as Error).message);
    }
  };

  return (
    <>
      <p>
        <Link to="/">← Dashboard</Link>
      </p>
      <h1>{task?.description ?? taskId}</h1>
      <ErrorMessage message={error} />
      {task && (
        <p>
          <span className={`state state-${task.state}`} aria-live="polite">
            {task.state}
          </span>
          {task.startedAt && ` · ${duration(task.startedAt, task.completedAt, now)}`}
          {task.error && <span className="error"> · {task.error}</span>}
          {ACTIVE.has(task.state) &&
            task.state !== 'cancelling' &&
            may('task:cancel', { project: task.project, environment: task.environment }) && (
              <>
                {' '}
                <button type="button" onClick={() => void cancel()}>
                  Cancel
                </button>
              </>
            )}
          {cancelError && (
            <span role="alert" className="error">
              {' '}
              {cancelError}
            </span>
          )}
        </p>
      )}
      {task && <Timeline task={task} now={now} waiting={waiting} />}
      {task && <OutputVariables task={task} />}
      <section aria-label="Task log">
        {groups.map((g) => (
          <details open key={g.key}>
            <summary>
              {g.step ?? 'Task'}
              {g.target ? ` · ${g.target}` : ''}
              {groupSummary(task, g)}
            </summary>
            <LogView lines={g.lines} label={`${g.step ?? 'Task'}${g.target ? ` · ${g.target}` : ''} log`} />
          </details>
        ))}
      </section>
    </>
  );
}

/** The time, once a second while `ticking`: what running bars and durations grow by. */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}

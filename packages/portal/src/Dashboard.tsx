import { useCallback, useEffect, useState } from 'react';
import {
  isErrorCode,
  type Deployment,
  type Environment,
  type LongshoreClient,
  type PoolStatistics,
  type Project,
  type Task,
  type Worker,
} from '@longshore/client';
import { useAccess } from './Access.js';
import type { Access } from './access.js';
import { DataTable, type Column } from './DataTable.js';
import { Link } from './Link.js';
import { taskPath } from './navigation.js';
import { ErrorMessage } from './ErrorMessage.js';

interface DashboardData {
  projects: Project[];
  environments: Environment[];
  deployments: Deployment[];
  tasks: Task[];
  pools: PoolStatistics[];
  workers: Worker[];
}

const POOL_COLUMNS: Column<PoolStatistics>[] = [
  { header: 'Pool', cell: (p) => p.pool },
  { header: 'Queued', cell: (p) => p.queueDepth },
  { header: 'Oldest wait', cell: (p) => (p.queueDepth ? `${Math.round(p.oldestWaitSeconds)} s` : '—') },
  { header: 'Usable workers', cell: (p) => p.usableWorkers },
  {
    header: 'Health',
    cell: (p) =>
      Object.entries(p.workersByHealth)
        .filter(([, n]) => n > 0)
        .map(([health, n]) => `${n} ${health}`)
        .join(', ') || 'no workers',
  },
];

const WORKER_COLUMNS: Column<Worker>[] = [
  { header: 'Worker', cell: (w) => w.name },
  { header: 'Status', cell: (w) => (w.disabled ? 'disabled' : w.status) },
  { header: 'Health', cell: (w) => `${w.health}${w.healthReasons.length ? `: ${w.healthReasons.join('; ')}` : ''}` },
  { header: 'Version', cell: (w) => `${w.version}${w.upgradeAvailable ? ' (upgrade available)' : ''}` },
  { header: 'Running', cell: (w) => `${w.running}/${w.capacity}` },
];

/** How often the dashboard reads again: live enough to watch, light on the server. */
const REFRESH_MS = 5_000;

/** What the user may not read is not asked for: it shows as nothing rather than as a refusal. */
const ifAllowed = <T,>(allowed: boolean, read: () => Promise<T[]>): Promise<T[]> =>
  allowed ? read() : Promise.resolve([]);

async function load(client: LongshoreClient, access: Access, signal: AbortSignal): Promise<DashboardData> {
  const { may, mayList } = access;
  const [projects, environments, deployments, tasks, pools, workers] = await Promise.all([
    ifAllowed(mayList('project:view'), () => client.projects.list(signal)),
    ifAllowed(mayList('environment:view'), () => client.environments.list(signal)),
    ifAllowed(mayList('project:view'), () => client.deployments.list({}, signal)),
    ifAllowed(mayList('task:view'), () => client.tasks.list({}, signal)),
    ifAllowed(may('worker:view'), () => client.poolStatistics(signal)),
    ifAllowed(may('worker:view'), () => client.workers.list(signal)),
  ]);
  return { projects, environments, deployments, tasks, pools, workers };
}

/** The newest deployment of each project to each environment, with its task's state. */
function latestDeployments(data: DashboardData): Map<string, { deployment: Deployment; state: string }> {
  const states = new Map(data.tasks.map((t) => [t.id, t.state]));
  const latest = new Map<string, { deployment: Deployment; state: string }>();
  for (const d of data.deployments) {
    const key = `${d.projectId}/${d.environmentId}`;
    const known = latest.get(key);
    if (known && known.deployment.createdAt >= d.createdAt) continue;
    latest.set(key, { deployment: d, state: states.get(d.taskId) ?? 'unknown' });
  }
  return latest;
}

export function Dashboard({ client, onUnauthenticated }: { client: LongshoreClient; onUnauthenticated: () => void }) {
  const access = useAccess();
  const [data, setData] = useState<DashboardData | undefined>();
  const [error, setError] = useState<string | undefined>();

  const refresh = useCallback(
    async (signal: AbortSignal) => {
      try {
        setData(await load(client, access, signal));
        setError(undefined);
      } catch (err) {
        if (signal.aborted) return;
        if (isErrorCode(err, 'UNAUTHENTICATED')) onUnauthenticated();
        else setError((err as Error).message);
      }
    },
    [client, access, onUnauthenticated],
  );

  useEffect(() => {
    const abort = new AbortController();
    void refresh(abort.signal);
    const timer = setInterval(() => void refresh(abort.signal), REFRESH_MS);
    return () => {
      clearInterval(timer);
      abort.abort();
    };
  }, [refresh]);

  if (!data) return error ? <ErrorMessage message={error} /> : <p aria-busy="true">Loading…</p>;
  const latest = latestDeployments(data);
  const running = data.tasks.filter((t) => t.state === 'running' || t.state === 'queued' || t.state === 'cancelling');
  return (
    <>
      <h1>Dashboard</h1>
      <ErrorMessage message={error} />
      {access.mayList('project:view') && (
        <section aria-labelledby="deployments-heading">
          <h2 id="deployments-heading">Deployments</h2>
          {data.projects.length === 0 || data.environments.length === 0 ? (
            <p className="empty">
              No projects or environments yet: create them with <code>longshore apply -f longshore.yaml</code>.
            </p>
          ) : (
            <DataTable
              labelledBy="deployments-heading"
              rows={data.projects}
              rowKey={(p) => p.id}
              columns={[
                { header: 'Project', cell: (p: Project) => p.name },
                ...data.environments.map((e) => ({
                  header: e.name,
                  cell: (p: Project) => {
                    const cell = latest.get(`${p.id}/${e.id}`);
                    return cell ? (
                      <Link to={taskPath(cell.deployment.taskId)}>
                        <span className={`state state-${cell.state}`}>
                          {cell.deployment.releaseVersion} · {cell.state}
                        </span>
                      </Link>
                    ) : (
                      <span className="none">not deployed</span>
                    );
                  },
                })),
              ]}
            />
          )}
        </section>
      )}
      {access.mayList('task:view') && (
        <section aria-labelledby="tasks-heading">
          <h2 id="tasks-heading">Running tasks</h2>
          {running.length === 0 ? (
            <p className="empty">Nothing is running.</p>
          ) : (
            <ul>
              {running.map((t) => (
                <li key={t.id}>
                  <Link to={taskPath(t.id)}>{t.description}</Link>{' '}
                  <span className={`state state-${t.state}`}>{t.state}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      {access.may('worker:view') && <WorkersOverview pools={data.pools} workers={data.workers} />}
    </>
  );
}

function WorkersOverview({ pools, workers }: { pools: PoolStatistics[]; workers: Worker[] }) {
  return (
    <>
      <section aria-labelledby="pools-heading">
        <h2 id="pools-heading">Worker pools</h2>
        <DataTable labelledBy="pools-heading" rows={pools} rowKey={(p) => p.pool} columns={POOL_COLUMNS} />
      </section>
      <section aria-labelledby="workers-heading">
        <h2 id="workers-heading">Workers</h2>
        {workers.length === 0 ? (
          <p className="empty">
            No workers yet: <code>longshore workers install-command</code> prints the helm command that adds one.
          </p>
        ) : (
          <DataTable labelledBy="workers-heading" rows={workers} rowKey={(w) => w.id} columns={WORKER_COLUMNS} />
        )}
      </section>
    </>
  );
}

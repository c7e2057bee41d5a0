// A server, the sandbox cluster and a Kubernetes worker as a user runs them: the worker is a
// `longshore worker --executor kubernetes` process against the sandbox's API. The worker has
// an API user of its own, so the sandbox's audit log tells its requests apart from those of the
// sandbox's controllers and of the benchmark itself.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeconfigYaml, startSandbox, type NodeGroupSettings, type Sandbox } from '@longshore/sandbox';
import type { CliProcess } from '../test/support/cliProcess.js';
import { Lab } from '../test/support/lab.js';

export const WORKER_USER = 'longshore-bench-worker';

/**
 * The server's production lease and poll timings. The test defaults poll every second and
 * expire leases after 3 s, which neither an idle worker nor one starting 200 pods on a busy
 * machine should be measured with.
 */
const PRODUCTION_SERVER_ENV = {
  LONGSHORE_LEASE_MS: '60000',
  LONGSHORE_MAX_POLL_WAIT_MS: '25000',
  LONGSHORE_SWEEP_INTERVAL_MS: '5000',
  LONGSHORE_WORKER_OFFLINE_AFTER_MS: '90000',
};

/** One always-on node big enough for every pod a benchmark starts: no pod waits for room or a scale-up. */
const ROOMY_NODE: NodeGroupSettings = {
  name: 'bench',
  min: 1,
  max: 1,
  cpu: '1000',
  memory: '1000Gi',
  pods: 1000,
  labels: {},
  taints: [],
  provisioningDelayMs: 0,
};

export interface KubernetesLab {
  lab: Lab;
  sandbox: Sandbox;
  worker: CliProcess;
  workerName: string;
  close(): Promise<void>;
}

export async function startKubernetesLab(options: {
  workerName: string;
  scriptPods?: Record<string, unknown>;
  maxConcurrent?: number;
}): Promise<KubernetesLab> {
  const token = randomBytes(24).toString('hex');
  const sandbox = await startSandbox({
    tokens: [{ token, user: WORKER_USER, groups: ['system:masters'] }],
    cluster: { nodeGroups: [ROOMY_NODE] },
  });
  const lab = new Lab();
  try {
    await lab.startServer(PRODUCTION_SERVER_ENV);
    const kubeconfig = join(lab.dir, 'worker-kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml('bench', sandbox.server, sandbox.caPem, token), { mode: 0o600 });
    const worker = await lab.startKubernetesWorker(options.workerName, {
      kubeconfig,
      scriptPods: JSON.stringify(options.scriptPods ?? {}),
      args: options.maxConcurrent ? ['--max-concurrent', String(options.maxConcurrent)] : [],
    });
    return {
      lab,
      sandbox,
      worker,
      workerName: options.workerName,
      async close() {
        await lab.close();
        await sandbox.stop();
      },
    };
  } catch (error) {
    await lab.close();
    await sandbox.stop();
    throw error;
  }
}

/** Deploys and waits for the task to succeed; its operations as the API shows them. */
export async function deployAndWait(
  lab: Lab,
  project: string,
  environment: string,
  timeoutMs: number,
): Promise<{ taskId: string; operations: BenchOperation[] }> {
  const taskId = JSON.parse((await lab.cli(['deploy', project, '--to', environment, '--output', 'json'])).output)
    .taskId as string;
  const task = await lab.waitForTask(taskId, ['succeeded', 'failed', 'cancelled'], timeoutMs, 250);
  if (task.state !== 'succeeded')
    throw new Error(`${project}: ${task.state}: ${JSON.stringify(task.steps).slice(0, 2000)}`);
  return { taskId, operations: task.steps.flatMap((s: { operations: BenchOperation[] }) => s.operations) };
}

export interface BenchOperation {
  id: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string;
}

/** utime + stime of a process, in ms (USER_HZ is 100 on Linux). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

// bench/worker-idle: the Kubernetes worker registered, polling a server with production timings,
// with no work: its resident memory and CPU over an idle minute (LONGSHORE_BENCH_IDLE_SECONDS for
// a quicker run; CPU is read in 10 ms ticks, so short runs are coarse). One operation runs first,
// so the worker holds what it holds in service: the shared pod and event watches and its sweeper.
// A local worker idles beside it in the same window, for comparison.
import { cpuMs, deployAndWait, rssMiB, startKubernetesLab, WORKER_USER } from './kubernetesLab.js';
import { report, round } from './stats.js';

/**
 * V8's memory reducer runs a few full collections some 15 to 30 s after a process goes quiet
 * (about 0.2 s of CPU, and some 30 MiB of RSS given back): that belongs to start-up, not to the
 * hours a worker idles, so the window opens after it.
 */
const SETTLE_MS = 45_000;

export async function workerIdleBench(
  seconds = Number(process.env.LONGSHORE_BENCH_IDLE_SECONDS ?? 60),
): Promise<Record<string, number>> {
  const env = await startKubernetesLab({ workerName: 'idle-k8s' });
  const { lab, sandbox } = env;
  try {
    await lab.apply(`
environments: [ { name: Bench } ]
projects:
  - name: Once
    process:
      steps:
        - name: Noop
          script: { body: 'true' }
`);
    await deployAndWait(lab, 'Once', 'Bench', 120_000);
    // Started after the operation, so that the Kubernetes worker is the one that ran it.
    const local = await lab.startWorker('idle-local');
    await new Promise((r) => setTimeout(r, SETTLE_MS));

    const pids = { kubernetes: env.worker.child.pid!, local: local.child.pid! };
    const before = { kubernetes: cpuMs(pids.kubernetes), local: cpuMs(pids.local) };
    const auditFrom = sandbox.audit.lastSeq;
    const peak = { kubernetes: 0, local: 0 };
    for (let s = 0; s < seconds; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      peak.kubernetes = Math.max(peak.kubernetes, rssMiB(pids.kubernetes));
      peak.local = Math.max(peak.local, rssMiB(pids.local));
    }
    const perSecond = (ms: number) => round(ms / seconds, 2);
    return {
      'idle seconds': seconds,
      'Kubernetes worker RSS, peak (MiB, goal <= 60)': Math.round(peak.kubernetes),
      'Kubernetes worker CPU (ms/s, goal <= 1)': perSecond(cpuMs(pids.kubernetes) - before.kubernetes),
      'Kubernetes API requests per idle minute': round(
        (sandbox.audit.entries({ user: WORKER_USER, afterSeq: auditFrom }).length * 60) / seconds,
        1,
      ),
      'local worker RSS, peak (MiB)': Math.round(peak.local),
      'local worker CPU (ms/s)': perSecond(cpuMs(pids.local) - before.local),
    };
  } finally {
    await env.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) report('worker-idle', await workerIdleBench());

import { autoscalingBench } from './autoscaling.bench.js';
import { crossCheckBench } from './autoscaling/crossCheck.js';
import { dispatchBench } from './dispatch.bench.js';
import { dispatchScaleBench } from './dispatchScale.bench.js';
import { k8sLogThroughputBench } from './k8sLogThroughput.bench.js';
import { k8sOperationsBench } from './k8sOperations.bench.js';
import { logIngestBench } from './logIngest.bench.js';
import { portalLoadBench } from './portalLoad.bench.js';
import { sandboxApiBench } from './sandboxApi.bench.js';
import { sandboxPodsBench } from './sandboxPods.bench.js';
import { serverIdleBench } from './serverIdle.bench.js';
import { workerIdleBench } from './workerIdle.bench.js';
import { report } from './stats.js';

/**
 * `npm run bench [name...]`: each benchmark prints its figures beside the limit it is measured
 * against in the same run, so a noisy shared machine moves both sides alike.
 */
const benches: Record<string, () => Promise<Record<string, number | boolean | string>>> = {
  'server-idle': serverIdleBench,
  dispatch: () => dispatchBench(500),
  'dispatch-scale': () => dispatchScaleBench(),
  'log-ingest': () => logIngestBench(1_000_000),
  'sandbox-api': () => sandboxApiBench(),
  'sandbox-pods': () => sandboxPodsBench(),
  'k8s-operations': () => k8sOperationsBench(200),
  'k8s-log-throughput': () => k8sLogThroughputBench(1_000_000),
  'worker-idle': () => workerIdleBench(),
  'portal-load': () => portalLoadBench(),
  autoscaling: () => Promise.resolve(autoscalingBench()),
  'autoscaling-crosscheck': () => crossCheckBench(),
};
const chosen = process.argv.slice(2);
for (const [name, run] of Object.entries(benches)) {
  if (chosen.length && !chosen.includes(name)) continue;
  report(name, await run());
}

import assert from 'node:assert/strict';
import type { FakeAgent } from './agentClient.js';
import type { Harness } from './serverHarness.js';

export const MiB = 2 ** 20;

/**
 * A script pod's usage as a Kubernetes worker reports it. The runs asked for what fits what they
 * used (nothing outgrew its request), so a recommendation waits for three of them.
 */
export const usageReport = (peakCpuMillis: number, peakMemoryMiB: number, extra: object = {}) => ({
  samples: 6,
  peakCpuMillis,
  meanCpuMillis: Math.round(peakCpuMillis / 2),
  peakMemoryBytes: peakMemoryMiB * MiB,
  durationSeconds: 30,
  requests: { cpuMillis: 1000, memoryBytes: 256 * MiB },
  limits: {},
  oomKilled: false,
  throttled: false,
  ...extra,
});

/** Deploys the project, takes its operation as the worker and reports it done with this usage; answers the operation and its task. */
export async function measuredRun(
  h: Harness,
  agent: FakeAgent,
  deployment: { project: string; environment: string },
  reported: object,
  outcome = 'succeeded',
): Promise<{ op: any; taskId: string }> {
  const deployed = await h.api('POST', '/api/deployments', deployment);
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  const [op] = (await agent.poll()).operations;
  const done = await agent.complete(op.id, { outcome, exitCode: outcome === 'succeeded' ? 0 : 137, usage: reported });
  assert.equal(done.status, 204, JSON.stringify(done.body));
  return { op, taskId: deployed.body.taskId as string };
}

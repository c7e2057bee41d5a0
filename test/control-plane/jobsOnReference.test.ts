// The Job and CronJob scenarios of test/sandbox/jobs.test.ts against the real kube-apiserver,
// with the sandbox's nodes and its job, cronjob and garbage-collection controllers attached: the
// controllers must work with what a real API server defaults, validates and writes. Also a
// typed read through @kubernetes/client-node's BatchV1Api.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BatchV1Api, KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_CLUSTER } from '@longshore/sandbox';
import { JOB_SCENARIOS } from '../sandbox/scenarios/jobScenarios.js';
import { ClientEnv, clientsMissing, succeeded } from '../sandbox/support.js';
import { attachSandbox, type AttachedSandbox } from './sandboxOnReference.js';
import { referenceClusterAvailable, startReferenceCluster, type ReferenceCluster } from './referenceCluster.js';

const skip = referenceClusterAvailable()
  ? clientsMissing()
  : 'reference control plane not built (bash test/control-plane/build.sh)';

describe('Jobs and CronJobs on the reference control plane (kubectl)', { skip }, () => {
  let ref: ReferenceCluster | undefined;
  let sandbox: AttachedSandbox | undefined;
  let env: ClientEnv;
  before(async () => {
    ref = await startReferenceCluster();
    sandbox = await attachSandbox(ref, DEFAULT_CLUSTER);
    env = new ClientEnv(ref.kubeconfigPath);
  });
  after(async () => {
    await sandbox?.stop();
    await ref?.stop();
    env?.cleanup();
  });

  for (const [name, scenario] of Object.entries(JOB_SCENARIOS)) {
    test(name, async () => {
      const ns = `jobs-${name.toLowerCase()}`;
      await succeeded(env.kubectl(['create', 'namespace', ns]));
      await scenario(env, ns);
    });
  }

  test('client-node reads a finished Job typed', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(ref!.kubeconfigPath);
    const job = await kc.makeApiClient(BatchV1Api).readNamespacedJob({ name: 'pi', namespace: 'jobs-createwaitlogs' });
    assert.equal(job.status?.succeeded, 1);
    assert.ok(job.status?.completionTime instanceof Date);
    assert.equal(job.status?.conditions?.find((c) => c.type === 'Complete')?.reason, 'CompletionsReached');
  });
});

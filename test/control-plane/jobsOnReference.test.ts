// The Job and CronJob scenarios of test/sandbox/jobs.test.ts against the real kube-apiserver,
// with the sandbox's nodes and its job, cronjob and garbage-collection controllers attached: the
// controllers must work with what a real API server defaults, validates and writes. Also a
// typed read through @kubernetes/client-node's BatchV1Api.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchV1Api, KubeConfig } from '@kubernetes/client-node';
import { JOB_SCENARIOS } from '../sandbox/scenarios/jobScenarios.js';
import { succeeded } from '../sandbox/support.js';
import { referenceForSuite, referenceSkip } from './sandboxOnReference.js';

describe('Jobs and CronJobs on the reference control plane (kubectl)', { skip: referenceSkip() }, () => {
  const suite = referenceForSuite();

  for (const [name, scenario] of Object.entries(JOB_SCENARIOS)) {
    test(name, async () => {
      const ns = `jobs-${name.toLowerCase()}`;
      await succeeded(suite.env.kubectl(['create', 'namespace', ns]));
      await scenario(suite.env, ns);
    });
  }

  test('client-node reads a finished Job typed', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(suite.ref.kubeconfigPath);
    const job = await kc.makeApiClient(BatchV1Api).readNamespacedJob({ name: 'pi', namespace: 'jobs-createwaitlogs' });
    assert.equal(job.status?.succeeded, 1);
    assert.ok(job.status?.completionTime instanceof Date);
    assert.equal(job.status?.conditions?.find((c) => c.type === 'Complete')?.reason, 'CompletionsReached');
  });
});

// batch/v1 Jobs and CronJobs on the sandbox, driven by an unmodified kubectl 1.32 (the scenario
// bodies are shared with the reference control plane's test, jobsOnReference.test.ts).
import { after, before, describe, test } from 'node:test';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { JOB_SCENARIOS } from './scenarios/jobScenarios.js';
import { ClientEnv, clientsMissing, succeeded } from './support.js';

describe('Jobs and CronJobs (kubectl)', { skip: clientsMissing() }, () => {
  let sb: Sandbox;
  let env: ClientEnv;
  before(async () => {
    sb = await startSandbox();
    env = new ClientEnv(sb.kubeconfigPath);
  });
  after(async () => {
    await sb?.stop();
    env?.cleanup();
  });

  for (const [name, scenario] of Object.entries(JOB_SCENARIOS)) {
    test(name, async () => {
      const ns = `jobs-${name.toLowerCase()}`;
      await succeeded(env.kubectl(['create', 'namespace', ns]));
      await scenario(env, ns);
    });
  }
});

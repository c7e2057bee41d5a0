// DaemonSets, ReplicationControllers and APIServices through unmodified kubectl against the
// sandbox: a pod per node with rollouts, daemon pods following the node autoscaler, `kubectl
// scale rc`, and a multi-document apply of every workload kind (scenarios/daemonSetScenarios.ts).
import { after, before, describe, test } from 'node:test';
import { DEFAULT_CLUSTER, startSandbox, type Sandbox } from '@longshore/sandbox';
import {
  daemonSetCluster,
  daemonSetFollowsNodes,
  daemonSetOnEveryNode,
  multiDocumentApply,
  replicationControllerScales,
} from './scenarios/daemonSetScenarios.js';
import { ClientEnv, clientsMissing } from './support.js';

describe('DaemonSets, ReplicationControllers, APIServices (kubectl)', { skip: clientsMissing() }, () => {
  let sb: Sandbox;
  let env: ClientEnv;
  before(async () => {
    sb = await startSandbox({ cluster: daemonSetCluster(DEFAULT_CLUSTER) });
    env = new ClientEnv(sb.kubeconfigPath);
  });
  after(async () => {
    await sb?.stop();
    env?.cleanup();
  });

  test('a DaemonSet runs a pod on each node and rolls out a new template', () => daemonSetOnEveryNode(env));
  test('daemon pods follow nodes the autoscaler adds and removes', () => daemonSetFollowsNodes(env));
  test('kubectl scale rc', () => replicationControllerScales(env));
  test('kubectl apply -f of a multi-document file with every workload kind', () => multiDocumentApply(env));
});

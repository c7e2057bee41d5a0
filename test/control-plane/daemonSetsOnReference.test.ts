// The DaemonSet, ReplicationController and multi-kind apply scenarios against a real
// kube-apiserver, with the sandbox's scheduler, nodes, autoscaler and controllers attached
// (its DaemonSet, ReplicationController and pod GC controllers among them): the controllers
// must write objects the real apiserver accepts and reach the same results through its API.
import { after, before, test } from 'node:test';
import { DEFAULT_CLUSTER } from '@longshore/sandbox';
import {
  daemonSetCluster,
  daemonSetFollowsNodes,
  daemonSetOnEveryNode,
  multiDocumentApply,
  replicationControllerScales,
} from '../sandbox/scenarios/daemonSetScenarios.js';
import { ClientEnv, clientsMissing } from '../sandbox/support.js';
import { attachSandbox, type AttachedSandbox } from './sandboxOnReference.js';
import { referenceClusterAvailable, startReferenceCluster, type ReferenceCluster } from './referenceCluster.js';

const skip =
  clientsMissing() ||
  (referenceClusterAvailable() ? false : 'reference control plane not built (bash test/control-plane/build.sh)');
let ref: ReferenceCluster | undefined;
let sandbox: AttachedSandbox | undefined;
let env: ClientEnv | undefined;

before(async () => {
  if (skip) return;
  ref = await startReferenceCluster();
  sandbox = await attachSandbox(ref, daemonSetCluster(DEFAULT_CLUSTER));
  env = new ClientEnv(ref.kubeconfigPath);
});
after(async () => {
  await sandbox?.stop();
  await ref?.stop();
  env?.cleanup();
});

test('a DaemonSet runs a pod on each node and rolls out a new template', { skip }, () => daemonSetOnEveryNode(env!));
test('daemon pods follow nodes the autoscaler adds and removes', { skip }, () => daemonSetFollowsNodes(env!));
test('kubectl scale rc', { skip }, () => replicationControllerScales(env!));
test('kubectl apply -f of a multi-document file with every workload kind', { skip }, () => multiDocumentApply(env!));

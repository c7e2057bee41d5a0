// The DaemonSet, ReplicationController and multi-kind apply scenarios against a real
// kube-apiserver, with the sandbox's scheduler, nodes, autoscaler and controllers attached
// (its DaemonSet, ReplicationController and pod GC controllers among them): the controllers
// must write objects the real apiserver accepts and reach the same results through its API.
import { test } from 'node:test';
import { DEFAULT_CLUSTER } from '@longshore/sandbox';
import {
  daemonSetCluster,
  daemonSetFollowsNodes,
  daemonSetOnEveryNode,
  multiDocumentApply,
  replicationControllerScales,
} from '../sandbox/scenarios/daemonSetScenarios.js';
import { referenceForSuite, referenceSkip } from './sandboxOnReference.js';

const skip = referenceSkip();
const suite = referenceForSuite(daemonSetCluster(DEFAULT_CLUSTER));

test('a DaemonSet runs a pod on each node and rolls out a new template', { skip }, () =>
  daemonSetOnEveryNode(suite.env),
);
test('daemon pods follow nodes the autoscaler adds and removes', { skip }, () => daemonSetFollowsNodes(suite.env));
test('kubectl scale rc', { skip }, () => replicationControllerScales(suite.env));
test('kubectl apply -f of a multi-document file with every workload kind', { skip }, () =>
  multiDocumentApply(suite.env),
);

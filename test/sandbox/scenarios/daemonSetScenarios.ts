// DaemonSet, ReplicationController and multi-kind apply scenarios, driven through unmodified
// kubectl. They take any runner with a kubectl method, so the same scenarios run against the
// sandbox (test/sandbox/daemonSets.test.ts) and against the reference kube-apiserver with the
// sandbox's nodes and controllers attached (test/control-plane/daemonSetsOnReference.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import type { ClusterConfig } from '@longshore/sandbox';
import { AUTOSCALED_FROM_ZERO } from '../../support/autoscalingScenario.js';
import { eventually, type RunResult } from '../support.js';

export interface KubectlRunner {
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
}

/** One always-on node and an autoscaled group that starts empty (quick scale-up and scale-down). */
export function daemonSetCluster(base: ClusterConfig): ClusterConfig {
  const fixed = base.nodeGroups.find((g) => g.min > 0 && g.min === g.max) ?? base.nodeGroups[0]!;
  return {
    ...base,
    nodeGroups: [fixed, ...AUTOSCALED_FROM_ZERO.nodeGroups],
    autoscaler: AUTOSCALED_FROM_ZERO.autoscaler,
  };
}

const ok = async (env: KubectlRunner, args: string[], input?: string, timeoutMs = 30_000): Promise<string> => {
  const r = await env.kubectl(args, { ...(input === undefined ? {} : { input }), timeoutMs });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
};
const lines = (s: string): string[] => s.split('\n').filter(Boolean);

const AGENT = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: agent, image: busybox, command: [sh, -c, 'echo agent on $NODE; exec sleep 3600'],
         env: [{name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]}
`;

const agentNodes = async (env: KubectlRunner): Promise<string[]> =>
  lines(
    await ok(env, [
      'get',
      'pods',
      '-l',
      'app=agent',
      '-o',
      'jsonpath={range .items[?(@.spec.nodeName)]}{.spec.nodeName}{"\\n"}{end}',
    ]),
  ).sort();
const nodeNames = async (env: KubectlRunner): Promise<string[]> =>
  lines(await ok(env, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'])).sort();

/** A DaemonSet puts one pod on each node, `kubectl rollout status` waits for it, and a template
 *  change rolls out to every node (each pod replaced, with the new revision hash). */
export async function daemonSetOnEveryNode(env: KubectlRunner): Promise<void> {
  await ok(env, ['apply', '-f', '-'], AGENT);
  await ok(env, ['rollout', 'status', 'ds/agent', '--timeout=60s'], undefined, 70_000);
  const nodes = await nodeNames(env);
  assert.deepEqual(await agentNodes(env), nodes, 'one agent pod per node');
  const table = lines(await ok(env, ['get', 'ds', 'agent']));
  assert.match(table[0]!, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE$/);
  const n = nodes.length;
  assert.match(table[1]!, new RegExp(`^agent\\s+${n}\\s+${n}\\s+${n}\\s+${n}\\s+${n}\\s+<none>\\s+\\S+$`));

  const before = lines(await ok(env, ['get', 'pods', '-l', 'app=agent', '-o', 'name'])).sort();
  await ok(env, ['set', 'env', 'ds/agent', 'ROLLED=yes']);
  await ok(env, ['rollout', 'status', 'ds/agent', '--timeout=60s'], undefined, 70_000);
  const after = await eventually(
    'the old agent pods gone',
    async () => {
      const names = lines(await ok(env, ['get', 'pods', '-l', 'app=agent', '-o', 'name']));
      return names.length === n && names.every((x) => !before.includes(x)) ? names : undefined;
    },
    30_000,
  );
  const hashes = new Set(
    lines(
      await ok(env, [
        'get',
        'pods',
        '-l',
        'app=agent',
        '-o',
        'jsonpath={range .items[*]}{.metadata.labels.controller-revision-hash}{"\\n"}{end}',
      ]),
    ),
  );
  assert.equal(hashes.size, 1, `every pod of the new template: ${after.join(' ')}`);
}

const WIDE = `apiVersion: v1
kind: Pod
metadata: {name: wide}
spec:
  terminationGracePeriodSeconds: 1
  nodeSelector: {longshore.io/node-group: autoscaled}
  containers: [{name: main, image: busybox, command: [sh, -c, 'exec sleep 3600']}]
`;

/** The DaemonSet follows the node autoscaler: a pod only the autoscaled group can hold brings a
 *  node, the DaemonSet puts a pod on it; once that pod is gone the node goes, and so does its
 *  daemon pod. Needs daemonSetCluster() and the `agent` DaemonSet of daemonSetOnEveryNode. */
export async function daemonSetFollowsNodes(env: KubectlRunner): Promise<void> {
  const before = await nodeNames(env);
  await ok(env, ['apply', '-f', '-'], WIDE);
  const added = await eventually(
    'a node added for pod wide',
    async () => (await nodeNames(env)).find((x) => !before.includes(x)),
    30_000,
  );
  await eventually('an agent pod on the new node', async () => (await agentNodes(env)).includes(added), 30_000);
  await ok(env, ['rollout', 'status', 'ds/agent', '--timeout=60s'], undefined, 70_000);
  await ok(env, ['delete', 'pod', 'wide', '--wait=true'], undefined, 30_000);
  await eventually('the added node removed', async () => !(await nodeNames(env)).includes(added), 40_000);
  await eventually('its agent pod gone', async () => !(await agentNodes(env)).includes(added), 30_000);
  await eventually(
    'desiredNumberScheduled back',
    async () =>
      (await ok(env, ['get', 'ds', 'agent', '-o', 'jsonpath={.status.desiredNumberScheduled}'])) ===
      String(before.length),
    30_000,
  );
}

const WEB_RC = `apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  replicas: 1
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: web, image: busybox, command: [sh, -c, 'exec sleep 3600']}]
`;

/** `kubectl scale rc` through the scale subresource; the RC keeps that many pods. */
export async function replicationControllerScales(env: KubectlRunner): Promise<void> {
  await ok(env, ['apply', '-f', '-'], WEB_RC);
  assert.equal(await ok(env, ['get', 'rc', 'web', '-o', 'jsonpath={.spec.selector.app}']), 'web');
  const ready = (n: number): Promise<boolean> =>
    eventually(
      `${n} ready replicas`,
      async () => {
        const s = await ok(env, ['get', 'rc', 'web', '-o', 'jsonpath={.status.replicas}/{.status.readyReplicas}']);
        return s === `${n}/${n}` || (n === 0 && s === '0/') || undefined;
      },
      30_000,
    );
  await ready(1);
  await ok(env, ['scale', 'rc', 'web', '--replicas=3']);
  await ready(3);
  const table = lines(await ok(env, ['get', 'rc', 'web']));
  assert.match(table[0]!, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE$/);
  assert.match(table[1]!, /^web\s+3\s+3\s+3\s+\S+$/);
  await ok(env, ['scale', 'rc', 'web', '--replicas=0']);
  await ready(0);
  await eventually(
    'the web pods gone',
    async () => lines(await ok(env, ['get', 'pods', '-l', 'app=web', '-o', 'name'])).length === 0,
    30_000,
  );
}

export const ALL_KINDS_FIXTURE = fileURLToPath(new URL('../fixtures/allKinds.yaml', import.meta.url));

/** `kubectl apply -f` of a multi-document file, then `kubectl get -f` lists every object.
 *  `kinds` limits the documents to the kinds given (undefined: all of them). */
export async function multiDocumentApply(env: KubectlRunner): Promise<void> {
  const input = readFileSync(ALL_KINDS_FIXTURE, 'utf8');
  const docs = parseAllDocuments(input).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
  const applied = lines(await ok(env, ['apply', '-f', '-'], input, 60_000));
  assert.equal(applied.length, docs.length, applied.join('\n'));
  const listed = lines(await ok(env, ['get', '-f', '-', '-o', 'name'], input));
  const expected = docs.map((d) => `${d.kind.toLowerCase()}/${d.metadata.name}`);
  assert.deepEqual(
    listed.map((x) => x.replace(/^([a-z]+)\.[a-z0-9.]+\//, '$1/')),
    expected,
    'every applied object is listed',
  );
}

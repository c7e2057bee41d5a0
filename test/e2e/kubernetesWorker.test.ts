import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { Lab } from '../support/lab.js';
import { deployCatchingPods, expectNothingLeft } from '../support/scriptObjects.js';

const SECRET = 'pod-secret-value-42';
let lab: Lab;
let sandbox: Sandbox;

before(async () => {
  sandbox = await startSandbox();
  lab = new Lab();
  await lab.startServer();
  await lab.startKubernetesWorker('k8s-worker', {
    kubeconfig: sandbox.kubeconfigPath,
    scriptPods: 'imagePullGraceMs: 1500\n',
  });
});
after(async () => {
  await lab?.close();
  await sandbox?.stop();
});

test('a deployment step runs in a script pod: image, requests, log, outcome, no secret in the pod, nothing left behind', async () => {
  await lab.apply(`
environments: [ { name: Cluster } ]
projects:
  - name: Podded
    process:
      steps:
        - name: InPod
          resources: { requests: { cpu: 300m, memory: 64Mi } }
          script:
            body: |
              echo "hello from the pod"
              echo "secret is #{Token}"
              echo "to stderr" >&2
              set_longshore_variable Answer 42
        - name: Next
          script: { body: 'echo "answer was #{Longshore.Action[InPod].Output.Answer}"; exit 4' }
    variables:
      - { name: Token, value: ${SECRET}, sensitive: true }
`);
  const { res, pods: seen } = await deployCatchingPods(lab, sandbox.kubeconfigPath, 'Podded');
  assert.equal(res.code, 2, res.output);
  if (process.env.SHOW_OUTPUT) console.log(res.output);
  assert.match(res.output, /\[InPod\] hello from the pod/);
  assert.match(res.output, /\[InPod\] secret is \*\*\*\*\*\*\*\*/);
  assert.match(res.output, /\[InPod\] to stderr/);
  assert.match(res.output, /\[Next\] answer was 42/);
  assert.match(res.output, /Step 'Next': failed \(exit code 4\)/);
  assert.ok(!res.output.includes(SECRET));

  assert.equal(seen.length, 2, 'one pod per operation');
  const pod = seen[0]!;
  assert.match(pod.spec!.containers[0]!.image!, /^longshore\/worker-tools:/);
  assert.equal(pod.spec!.containers[0]!.resources!.requests!.cpu, '300m');
  assert.equal(pod.spec!.restartPolicy, 'Never');
  assert.equal(pod.metadata!.annotations!['cluster-autoscaler.kubernetes.io/safe-to-evict'], 'false');
  assert.equal(pod.metadata!.labels!['longshore.io/worker'], 'k8s-worker');
  assert.ok(!JSON.stringify(pod).includes(SECRET), 'no sensitive value in the pod spec');

  await expectNothingLeft(sandbox.kubeconfigPath);
});

const deployJson = async (project: string) =>
  JSON.parse((await lab.cli(['deploy', project, '--to', 'Cluster', '--output', 'json'])).output).taskId as string;

async function waitForLine(taskId: string, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await lab.taskLog(taskId)).some((l) => pattern.test(l.text))) {
    assert.ok(Date.now() < deadline, `no line ${pattern}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function scriptPods(): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  const pods = await kc
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: 'default', labelSelector: 'longshore.io/worker' });
  return pods.items.map((p) => p.metadata!.name!);
}

test('cancel deletes the pod: cancelled, nothing left; a pod deleted by hand: lost', async () => {
  await lab.apply(`
projects:
  - name: Sleepy
    process:
      steps:
        - name: Nap
          script: { body: 'echo "napping"; sleep 60' }
`);
  const cancelled = await deployJson('Sleepy');
  await waitForLine(cancelled, /napping/);
  await lab.cli(['tasks', 'cancel', cancelled]);
  const t1 = await lab.waitForTask(cancelled, ['cancelled', 'failed'], 40_000);
  assert.equal(t1.steps[0].operations[0].outcome, 'cancelled');

  const lost = await deployJson('Sleepy');
  await waitForLine(lost, /napping/);
  const [pod] = await scriptPods();
  assert.ok(pod, 'the script pod runs');
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  await kc.makeApiClient(CoreV1Api).deleteNamespacedPod({ name: pod!, namespace: 'default', gracePeriodSeconds: 0 });
  const t2 = await lab.waitForTask(lost, ['failed', 'succeeded'], 40_000);
  assert.equal(t2.steps[0].operations[0].outcome, 'lost', JSON.stringify(t2.steps[0].operations[0]));
  await expectNothingLeft(sandbox.kubeconfigPath);
});

test('a step that reaches its timeout: timed_out, said once, no shell job notices in the log', async () => {
  await lab.apply(`
environments: [ { name: Cluster } ]
projects:
  - name: Slow
    process:
      steps:
        - name: Crawl
          timeoutSeconds: 2
          script: { body: 'echo "crawling"; sleep 60' }
`);
  const taskId = await deployJson('Slow');
  const task = await lab.waitForTask(taskId, ['failed', 'succeeded'], 40_000);
  assert.equal(task.steps[0].operations[0].outcome, 'timed_out', JSON.stringify(task.steps[0].operations[0]));
  const texts = (await lab.taskLog(taskId)).map((l) => l.text as string);
  assert.ok(texts.includes('crawling'), texts.join('\n'));
  assert.equal(texts.filter((t) => /reached its timeout/.test(t)).length, 1, texts.join('\n'));
  assert.deepEqual(
    texts.filter((t) => /Terminated/.test(t)),
    [],
    texts.join('\n'),
  );
  await expectNothingLeft(sandbox.kubeconfigPath);
});

test("images: the step's own container is used, an unknown image fails fast with the pull reason, Docker needs are rejected", async () => {
  await lab.apply(`
projects:
  - name: Images
    process:
      steps:
        - name: Own
          container: { image: 'alpine:3.20' }
          script: { body: 'echo "in my own container"' }
        - name: Missing
          container: { image: 'registry.example/nope:1.0' }
          script: { body: 'echo never' }
        - name: Inline
          condition: always
          container: { dockerfile: 'FROM alpine' }
          script: { body: 'echo never' }
`);
  const res = await lab.cli(['deploy', 'Images', '--to', 'Cluster', '--follow']);
  assert.equal(res.code, 2, res.output);
  assert.match(res.output, /\[Own\] Created script pod \S+ \(image alpine:3.20\)/);
  assert.match(res.output, /\[Own\] in my own container/);
  assert.match(
    res.output,
    /Step 'Missing': failed - .*(registry.example\/nope:1.0 cannot be pulled|ErrImagePull|ImagePullBackOff)/,
  );
  assert.match(res.output, /Step 'Inline': rejected - .*Docker/);
});

test('an operation for a kubernetes-cluster target gets a kubeconfig for that cluster, its token only in the workspace Secret', async () => {
  const TOKEN = 'target-cluster-token-never-in-a-pod-spec';
  await lab.apply(`
targets:
  - name: prod-cluster
    type: kubernetes-cluster
    environments: [Cluster]
    tags: [k8s]
    kubernetes: { apiUrl: 'https://prod.example:6443', namespace: apps, token: ${TOKEN} }
projects:
  - name: ToCluster
    process:
      steps:
        - name: Kube
          runOn: { targetTags: [k8s] }
          script: { body: 'grep -E "server|namespace|token" "$KUBECONFIG"' }
`);
  const { res, pods: seen } = await deployCatchingPods(lab, sandbox.kubeconfigPath, 'ToCluster');
  assert.equal(res.code, 0, res.output);
  assert.match(res.output, /"server": "https:\/\/prod\.example:6443"/);
  assert.match(res.output, /"namespace": "apps"/);
  assert.match(res.output, /"token": "\*\*\*\*\*\*\*\*"/);
  assert.ok(!res.output.includes(TOKEN));
  assert.equal(seen.length, 1);
  assert.ok(!JSON.stringify(seen[0]).includes(TOKEN), 'the token is not in the pod spec');
});

// A deployment in the demo's style that runs its database migration as a Kubernetes Job: the
// step runs in a script pod on the sandbox, targets a kubernetes-cluster target that points at
// the same sandbox with a ServiceAccount token limited to one namespace, applies the Job with
// kubectl, waits for it to complete and prints its log. A failing migration fails the step.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { Lab } from '../support/lab.js';
import { ClientEnv, clientsMissing, kubeClientsDir, succeeded } from '../sandbox/support.js';

let lab: Lab;
let sandbox: Sandbox;
let kubectl: ClientEnv;

const NAMESPACE = 'apps';

const indent = (text: string, spaces: number): string =>
  text
    .split('\n')
    .map((l) => `${' '.repeat(spaces)}${l}`)
    .join('\n');

/** The step: apply the Job, wait until it completes or fails, and show its log either way. */
function migrationStep(job: string, command: string): string {
  const script = [
    "cat > job.yaml <<'YAML'",
    'apiVersion: batch/v1',
    'kind: Job',
    `metadata: { name: "${job}" }`,
    'spec:',
    '  backoffLimit: 0',
    '  ttlSecondsAfterFinished: 600',
    '  template:',
    '    spec:',
    '      restartPolicy: Never',
    '      containers:',
    '        - name: migrate',
    '          image: busybox',
    `          command: [sh, -c, "${command}"]`,
    'YAML',
    'kubectl apply -f job.yaml',
    // Whichever comes first: a Job that fails never completes, so waiting on one condition alone would hang.
    `kubectl wait --for=condition=complete --timeout=90s job/${job} & complete=$!`,
    `kubectl wait --for=condition=failed --timeout=90s job/${job} >/dev/null & failed=$!`,
    'while kill -0 $complete 2>/dev/null && kill -0 $failed 2>/dev/null; do sleep 1; done',
    'kill $complete $failed 2>/dev/null',
    `kubectl logs job/${job}`,
    `state=$(kubectl get job/${job} -o jsonpath='{.status.conditions[?(@.status=="True")].type}')`,
    `echo "Job ${job}: $state"`,
    'case "$state" in *Complete*) ;; *) exit 1 ;; esac',
  ].join('\n');
  return [
    '        - name: Migrate',
    '          runOn: { targetTags: [cluster] }',
    "          container: { image: 'bitnami/kubectl:1.32' }",
    '          script:',
    '            body: |',
    indent(script, 14),
  ].join('\n');
}

before(async () => {
  if (clientsMissing()) return;
  sandbox = await startSandbox({
    cluster: {
      // A kubectl image as teams use one (bitnami/kubectl): a shell with kubectl on its PATH.
      images: { 'bitnami/kubectl': { from: 'busybox', env: { PATH: `${kubeClientsDir()}:${process.env.PATH}` } } },
    },
  });
  kubectl = new ClientEnv(sandbox.kubeconfigPath);
  const ok = (args: string[]): Promise<string> => succeeded(kubectl.kubectl(args), `kubectl ${args.join(' ')}`);
  await ok(['create', 'namespace', NAMESPACE]);
  await ok(['create', 'serviceaccount', 'deployer', '-n', NAMESPACE]);
  await ok([
    'create',
    'role',
    'migrator',
    '-n',
    NAMESPACE,
    '--verb=get,list,watch,create,patch,delete',
    '--resource=jobs,pods,pods/log',
  ]);
  await ok([
    'create',
    'rolebinding',
    'deployer',
    '-n',
    NAMESPACE,
    '--role=migrator',
    `--serviceaccount=${NAMESPACE}:deployer`,
  ]);
  const token = (await ok(['create', 'token', 'deployer', '-n', NAMESPACE, '--duration=1h'])).trim();

  lab = new Lab();
  await lab.startServer();
  await lab.startKubernetesWorker('cluster-worker', { kubeconfig: sandbox.kubeconfigPath });
  await lab.apply(`
environments: [ { name: Staging } ]
targets:
  - name: sandbox-apps
    type: kubernetes-cluster
    environments: [Staging]
    tags: [cluster]
    kubernetes:
      apiUrl: ${sandbox.server}
      namespace: ${NAMESPACE}
      token: ${token}
      caCertificate: |
${indent(sandbox.caPem.trim(), 8)}
projects:
  - name: Storefront
    process:
      steps:
${migrationStep('storefront-#{Longshore.Release.Number}', 'echo migrating to schema 7; sleep 1; echo schema 7 applied')}
  - name: Billing
    process:
      steps:
${migrationStep('billing-#{Longshore.Release.Number}', 'echo column already exists >&2; exit 4')}
`);
});
after(async () => {
  await lab?.close();
  await sandbox?.stop();
  kubectl?.cleanup();
});

test(
  'the step applies a migration Job on the kubernetes-cluster target, waits for it and shows its log',
  { skip: clientsMissing() },
  async () => {
    const deployed = await lab.cli(['deploy', 'Storefront', '--to', 'Staging', '--follow']);
    assert.equal(deployed.code, 0, deployed.output);
    assert.match(deployed.output, /\[Migrate@sandbox-apps\] job\.batch\/storefront-[\w.-]+ created/);
    assert.match(deployed.output, /\[Migrate@sandbox-apps\] migrating to schema 7/);
    assert.match(deployed.output, /\[Migrate@sandbox-apps\] schema 7 applied/);
    assert.match(deployed.output, /\[Migrate@sandbox-apps\] Job storefront-[\w.-]+: .*Complete/);
    const jobs = await succeeded(kubectl.kubectl(['get', 'jobs', '-n', NAMESPACE, '-o', 'name']), 'kubectl get jobs');
    assert.match(jobs, /job\.batch\/storefront-/);
  },
);

test(
  'a migration that fails fails the step, with the Job log in the task log',
  { skip: clientsMissing() },
  async () => {
    const deployed = await lab.cli(['deploy', 'Billing', '--to', 'Staging', '--follow']);
    assert.notEqual(deployed.code, 0, deployed.output);
    assert.match(deployed.output, /\[Migrate@sandbox-apps\] column already exists/);
    assert.match(deployed.output, /\[Migrate@sandbox-apps\] Job billing-[\w.-]+: .*Failed/);
  },
);

// Pods really run on the sandbox's virtual nodes, driven by an unmodified kubectl 1.32: logs
// -f, exit codes, a mounted Secret, wait/rollout/top, image pull failures, a memory limit that
// OOM-kills (where cgroups exist), the grace period on delete, and a pod that talks to the
// API from inside with its ServiceAccount (KubeConfig.loadFromCluster()).
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { ClientEnv, clientsMissing, eventually } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('pods run on the sandbox nodes (kubectl)', { skip: clientsMissing() }, () => {
  let sb: Sandbox;
  let env: ClientEnv;
  before(async () => {
    sb = await startSandbox({
      cluster: { images: { 'node-script': { entrypoint: [process.execPath], cmd: [] } }, restartBackoffMs: 200 },
    });
    env = new ClientEnv(sb.kubeconfigPath);
  });
  after(async () => {
    await sb?.stop();
    env?.cleanup();
  });

  const ok = async (args: string[], input?: string, timeoutMs = 30_000): Promise<string> => {
    const r = await env.kubectl(args, { ...(input === undefined ? {} : { input }), timeoutMs });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
    return r.stdout;
  };
  const jsonpath = (kind: string, name: string, path: string, ns = 'default'): Promise<string> =>
    ok(['get', kind, name, '-n', ns, '-o', `jsonpath=${path}`]);

  test('logs -f streams the output, the exit code lands in the status, a mounted Secret is readable', async () => {
    await ok(['create', 'secret', 'generic', 'creds', '--from-literal=password=hunter2']);
    await ok(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: {name: job1}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'echo start; cat /etc/creds/password; echo; echo "env=$PW ns=$NS"; sleep 1; echo end; exit 3']
    env:
    - {name: PW, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    volumeMounts: [{name: creds, mountPath: /etc/creds, readOnly: true}]
  volumes: [{name: creds, secret: {secretName: creds}}]
`,
    );
    await eventually(
      'job1 started',
      async () => ['Running', 'Failed'].includes(await jsonpath('pod', 'job1', '{.status.phase}')),
      20_000,
    );
    const logs = await ok(['logs', '-f', 'job1']);
    assert.equal(logs, 'start\nhunter2\nenv=hunter2 ns=default\nend\n');
    await eventually(
      'job1 failed',
      async () => (await jsonpath('pod', 'job1', '{.status.phase}')) === 'Failed',
      10_000,
    );
    assert.equal(await jsonpath('pod', 'job1', '{.status.containerStatuses[0].state.terminated.exitCode}'), '3');
    assert.equal(await jsonpath('pod', 'job1', '{.status.containerStatuses[0].state.terminated.reason}'), 'Error');
    const ts = await ok(['logs', 'job1', '--timestamps', '--tail=1']);
    assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z end\n$/);
  });

  test('wait for Ready, rollout status, top pod; the deletion grace period sends SIGTERM first', async () => {
    await ok(
      ['apply', '-f', '-'],
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        image: busybox
        command: [sh, -c, "trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.2; done"]
`,
    );
    assert.match(
      await ok(['rollout', 'status', 'deployment/web', '--timeout=40s'], undefined, 45_000),
      /successfully rolled out/,
    );
    await ok(['wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=30s'], undefined, 35_000);
    const top = await eventually(
      'kubectl top pod shows web',
      async () => {
        const r = await env.kubectl(['top', 'pod', '-l', 'app=web']);
        return r.code === 0 && /web-\S+\s+\d+m\s+\d+Mi/.test(r.stdout) ? r.stdout : undefined;
      },
      20_000,
    );
    assert.match(top, /NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    const pod = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim();
    const follow = env.kubectl(['logs', '-f', pod], { timeoutMs: 30_000 });
    // Give kubectl time to open the stream (a pod deleted first would answer NotFound).
    await new Promise((r) => setTimeout(r, 3_000));
    await ok(['delete', pod, '--wait=true'], undefined, 40_000);
    const followed = await follow;
    assert.match(followed.stdout, /got TERM/, followed.stderr);
  });

  test('an image not in the table fails as a pull would: ErrImagePull, then ImagePullBackOff, with events', async () => {
    await ok(['run', 'nopull', '--image=registry.example/nope:1', '--restart=Never']);
    await eventually(
      'ImagePullBackOff',
      async () =>
        (await jsonpath('pod', 'nopull', '{.status.containerStatuses[0].state.waiting.reason}')) === 'ImagePullBackOff',
      20_000,
    );
    const events = await ok([
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=nopull',
      '-o',
      'jsonpath={range .items[*]}{.reason}|{.message}{"\\n"}{end}',
    ]);
    assert.match(events, /^Failed\|Failed to pull image "registry.example\/nope:1": .*not found$/m);
    assert.match(events, /^Failed\|Error: ErrImagePull$/m);
    assert.match(events, /^BackOff\|Back-off pulling image "registry.example\/nope:1"$/m);
  });

  test('a container over its memory limit is OOMKilled (exit 137) where cgroups exist', async (t) => {
    if (sb.cluster?.cgroups.kind === 'none') {
      t.skip(`no cgroups on this host: ${sb.cluster.cgroups.reason ?? ''}`);
      return;
    }
    await ok(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: node-script
    args: ['-e', 'const a = []; for (;;) a.push(Buffer.alloc(4 << 20, 1));']
    resources: {limits: {memory: 64Mi}}
`,
    );
    await eventually(
      'hog terminated',
      async () => (await jsonpath('pod', 'hog', '{.status.phase}')) === 'Failed',
      30_000,
    );
    assert.equal(await jsonpath('pod', 'hog', '{.status.containerStatuses[0].state.terminated.reason}'), 'OOMKilled');
    assert.equal(await jsonpath('pod', 'hog', '{.status.containerStatuses[0].state.terminated.exitCode}'), '137');
  });

  test('loadFromCluster() inside a pod lists its namespace with its ServiceAccount and gets 403 elsewhere', async () => {
    await ok(['create', 'namespace', 'inside']);
    await ok(['create', 'serviceaccount', 'lister', '-n', 'inside']);
    await ok(['create', 'role', 'pod-reader', '--verb=list,get', '--resource=pods', '-n', 'inside']);
    await ok([
      'create',
      'rolebinding',
      'lister',
      '--role=pod-reader',
      '--serviceaccount=inside:lister',
      '-n',
      'inside',
    ]);
    await eventually(
      'kube-root-ca.crt published',
      async () => (await env.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'inside'])).code === 0,
    );
    await ok(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: {name: lister, namespace: inside}
spec:
  serviceAccountName: lister
  restartPolicy: Never
  containers:
  - name: main
    image: node-script
    args: [${JSON.stringify(join(here, 'fixtures', 'inClusterList.mjs'))}]
`,
    );
    await eventually(
      'lister finished',
      async () => ['Succeeded', 'Failed'].includes(await jsonpath('pod', 'lister', '{.status.phase}', 'inside')),
      30_000,
    );
    const out = await ok(['logs', 'lister', '-n', 'inside']);
    assert.match(out, /own namespace inside: 1 pod\(s\)/);
    assert.match(out, /default: 403/);
  });
});

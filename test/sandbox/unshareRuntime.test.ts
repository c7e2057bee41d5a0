// The sandbox without bubblewrap: nodes forced onto the unshare runtime run a pod with a
// Secret volume, an emptyDir and the ServiceAccount token at their usual paths, in a working
// directory the host lacks, and kubectl reads its log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { ClientEnv, clientsMissing, eventually, succeeded } from './support.js';

describe('pods on nodes whose container runtime is unshare (kubectl)', { skip: clientsMissing() }, () => {
  let sb: Sandbox;
  let env: ClientEnv;
  before(async () => {
    sb = await startSandbox({ cluster: { containerRuntime: 'unshare' } });
    env = new ClientEnv(sb.kubeconfigPath);
  });
  after(async () => {
    await sb?.stop();
    env?.cleanup();
  });

  test('a Secret volume, an emptyDir and the ServiceAccount token, read through kubectl logs', async (t) => {
    if (sb.cluster?.containerRuntime.kind !== 'unshare') {
      t.skip(`unshare does not work on this host: ${sb.cluster?.containerRuntime.reason ?? ''}`);
      return;
    }
    await succeeded(env.kubectl(['create', 'secret', 'generic', 'creds', '--from-literal=password=hunter2']));
    await succeeded(
      env.kubectl(['apply', '-f', '-'], {
        input: `apiVersion: v1
kind: Pod
metadata: {name: layout}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    workingDir: /scratch/job
    command: [sh, -c, 'pwd; cat /etc/creds/password; echo; echo kept > /scratch/note; cat /scratch/note; sa=/var/run/secrets/kubernetes.io/serviceaccount; cat $sa/namespace; echo; head -c 3 $sa/token; echo; grep -c "BEGIN CERTIFICATE" $sa/ca.crt; touch /etc/creds/x || echo creds read-only']
    volumeMounts:
    - {name: creds, mountPath: /etc/creds, readOnly: true}
    - {name: scratch, mountPath: /scratch}
  volumes:
  - {name: creds, secret: {secretName: creds}}
  - {name: scratch, emptyDir: {}}
`,
      }),
    );
    await eventually(
      'layout finished',
      async () =>
        ['Succeeded', 'Failed'].includes(
          (await env.kubectl(['get', 'pod', 'layout', '-o', 'jsonpath={.status.phase}'])).stdout,
        ),
      30_000,
    );
    const logs = await succeeded(env.kubectl(['logs', 'layout']));
    assert.match(logs, /^\/scratch\/job\nhunter2\nkept\ndefault\neyJ\n1\n/, logs);
    assert.match(logs, /creds read-only/);
    assert.equal((await env.kubectl(['get', 'pod', 'layout', '-o', 'jsonpath={.status.phase}'])).stdout, 'Succeeded');
  });
});

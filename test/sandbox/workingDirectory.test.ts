// Where a container starts when its spec names no workingDir: in its image's working directory,
// `/` for an image without one, as a container runtime does, never in the directory the sandbox
// was started from. The sandbox here runs from a directory under /tmp, so a pod with an emptyDir
// on /tmp hides that directory: a container started there would fail before its command runs.
// Every pod runs on each container runtime this host has (bubblewrap, unshare).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { ClientEnv, clientsMissing, eventually, succeeded } from './support.js';

const startedFrom = mkdtempSync(join(tmpdir(), 'longshore-sandbox-cwd-'));
const original = process.cwd();

function pod(name: string, image: string, tmpVolume: boolean): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: Never
  automountServiceAccountToken: ${!tmpVolume}
  containers:
  - name: main
    image: ${image}
    command: [sh, -c, 'pwd']
${
  tmpVolume
    ? `    volumeMounts: [{name: tmp, mountPath: /tmp}]
  volumes: [{name: tmp, emptyDir: {}}]
`
    : ''
}`;
}

for (const runtime of ['bubblewrap', 'unshare'] as const) {
  describe(
    `a container without workingDir, sandbox started under /tmp (${runtime})`,
    { skip: clientsMissing() },
    () => {
      let sb: Sandbox;
      let env: ClientEnv;
      before(async () => {
        process.chdir(startedFrom);
        sb = await startSandbox({ cluster: { containerRuntime: runtime } });
        env = new ClientEnv(sb.kubeconfigPath);
      });
      after(async () => {
        await sb?.stop();
        env?.cleanup();
        process.chdir(original);
      });

      async function pwdOf(name: string, manifest: string): Promise<string> {
        await succeeded(env.kubectl(['apply', '-f', '-'], { input: manifest }));
        const phase = await eventually(
          `${name} finished`,
          async () => {
            const p = (await env.kubectl(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])).stdout;
            return ['Succeeded', 'Failed'].includes(p) ? p : undefined;
          },
          30_000,
        );
        const logs = await succeeded(env.kubectl(['logs', name]));
        const state = (
          await env.kubectl(['get', 'pod', name, '-o', 'jsonpath={.status.containerStatuses[0].state.terminated}'])
        ).stdout;
        assert.equal(phase, 'Succeeded', `${logs}${state}`);
        return logs.trim();
      }

      test('an emptyDir on /tmp (and the ServiceAccount token, whose source it would hide): the container starts in / (its image has no working directory)', async (t) => {
        if (sb.cluster?.containerRuntime.kind !== runtime) {
          t.skip(`${runtime} does not work here: ${sb.cluster?.containerRuntime.reason ?? ''}`);
          return;
        }
        assert.equal(await pwdOf('tmp-volume', pod('tmp-volume', 'busybox', true)), '/');
      });

      test('no volumes at all: / as well, not the sandbox directory', async (t) => {
        if (sb.cluster?.containerRuntime.kind !== runtime) {
          t.skip(`${runtime} does not work here`);
          return;
        }
        assert.equal(await pwdOf('no-volume', pod('no-volume', 'busybox', false)), '/');
      });

      test('the worker image starts in its WORKDIR, /opt/longshore, where its files are', async (t) => {
        if (sb.cluster?.containerRuntime.kind !== runtime) {
          t.skip(`${runtime} does not work here`);
          return;
        }
        assert.equal(
          await pwdOf('worker-image', pod('worker-image', 'longshore/worker:0.1.0', true)),
          '/opt/longshore',
        );
      });
    },
  );
}

after(() => rmSync(startedFrom, { recursive: true, force: true }));

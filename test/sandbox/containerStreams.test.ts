// exec on a node, on each container runtime this host has: the command runs in the running
// container's isolation (its working directory, environment, volumes, files it wrote outside
// them, cgroup), with exact exit codes, separate stdout and stderr, stdin, a terminal whose size
// the client sets, the kubelet's refusals, and nothing left running once a session ends.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startSandbox, StreamRefused, type ContainerStreams, type Sandbox } from '@longshore/sandbox';
import { ClientEnv, clientsMissing, eventually } from './support.js';
import { finish, outputUntil, processesWith, runningPod } from './streamSessions.js';

const io = { stdin: false, stdout: true, stderr: true, tty: false };
const target = { namespace: 'default', pod: 'box', container: 'main' };

// /scratch/job is missing on the host: the container's root is rebuilt around it, so the marker
// it writes there lives only in the container's own mount namespace.
const BOX = `apiVersion: v1
kind: Pod
metadata: {name: box}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    workingDir: /scratch/job
    env: [{name: GREETING, value: hello-from-spec}]
    command: [sh, -c, 'echo mine > /scratch/job/marker; echo shared > /data/file; cat /proc/self/cgroup > /data/cgroup; exec sleep 3600']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {}}]
`;

for (const runtime of ['bubblewrap', 'unshare'] as const) {
  describe(`exec into a running container (${runtime})`, { skip: clientsMissing() }, () => {
    let sb: Sandbox;
    let env: ClientEnv;
    let streams: ContainerStreams;
    let skip: string | undefined;
    before(async () => {
      sb = await startSandbox({ cluster: { containerRuntime: runtime } });
      env = new ClientEnv(sb.kubeconfigPath);
      if (sb.cluster?.containerRuntime.kind !== runtime) {
        skip = `${runtime} does not work on this host: ${sb.cluster?.containerRuntime.reason ?? ''}`;
        return;
      }
      streams = await runningPod(sb, env, 'box', BOX);
    });
    after(async () => {
      await sb?.stop();
      env?.cleanup();
    });

    test('exit codes are exact and stdout and stderr stay apart', async (t) => {
      if (skip) return t.skip(skip);
      const r = await finish(streams.exec(target, ['sh', '-c', 'echo out; echo err >&2; exit 3'], io));
      assert.deepEqual(r, { stdout: 'out\n', stderr: 'err\n', exit: { exitCode: 3 } });
      const killed = await finish(streams.exec(target, ['sh', '-c', 'kill -TERM $$'], io));
      assert.deepEqual(killed.exit, { exitCode: 143 });
    });

    test('output is kept for a reader that comes after the command has exited', { timeout: 10_000 }, async (t) => {
      if (skip) return t.skip(skip);
      // The protocols read a session only once the client has opened all its streams.
      const s = streams.exec(target, ['sh', '-c', 'echo out; echo err >&2'], io);
      const exit = await s.exited;
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await finish(s), { stdout: 'out\n', stderr: 'err\n', exit });
    });

    test("the container's working directory, environment, volume, own files and cgroup", async (t) => {
      if (skip) return t.skip(skip);
      const script =
        'pwd; echo $GREETING; cat /data/file marker; cat /proc/self/cgroup | cmp - /data/cgroup && echo same-cgroup';
      const r = await finish(streams.exec(target, ['sh', '-c', script], io));
      assert.deepEqual(r, {
        stdout: '/scratch/job\nhello-from-spec\nshared\nmine\nsame-cgroup\n',
        stderr: '',
        exit: { exitCode: 0 },
      });
      assert.equal(existsSync('/scratch/job/marker'), false, 'the marker is not on the host');
    });

    test('stdin reaches the command and its end ends cat', async (t) => {
      if (skip) return t.skip(skip);
      const r = await finish(streams.exec(target, ['cat'], { ...io, stdin: true }), 'one\ntwo\n');
      assert.deepEqual(r, { stdout: 'one\ntwo\n', stderr: '', exit: { exitCode: 0 } });
    });

    test('a terminal: its first size applies before the command starts, later ones reach it', async (t) => {
      if (skip) return t.skip(skip);
      const s = streams.exec(target, ['sh', '-c', 'tty; stty size; while read x; do stty size; done; echo bye'], {
        ...io,
        stdin: true,
        tty: true,
      });
      s.resize(100, 33);
      assert.equal(s.stderr, undefined, 'a terminal has one output');
      let out = '';
      s.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
      await eventually('the first size', async () => /^\/dev\/pts\/\d+\r\n33 100\r\n/.test(out));
      s.resize(120, 40);
      await eventually('the new size', async () => {
        s.stdin!.write('\n');
        await new Promise((r) => setTimeout(r, 100));
        return out.includes('40 120\r\n');
      });
      s.stdin!.end();
      assert.deepEqual(await s.exited, { exitCode: 0 });
      assert.match(out, /bye\r\n$/, 'the end of stdin is the end of input on the terminal');
    });

    test("a missing program, container or pod is refused in the kubelet's words", async (t) => {
      if (skip) return t.skip(skip);
      const r = await finish(streams.exec(target, ['nope'], io));
      assert.ok('error' in r.exit, JSON.stringify(r.exit));
      assert.match(
        r.exit.error,
        /^error executing command in container: failed to exec in container: failed to start exec "[0-9a-f]{64}": OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": executable file not found in \$PATH: unknown$/,
      );
      assert.throws(
        () => streams.exec({ ...target, container: 'other' }, ['true'], io),
        (e: unknown) => e instanceof StreamRefused && e.status === 500 && e.message === 'container not found ("other")',
      );
      assert.throws(
        () => streams.exec({ ...target, pod: 'ghost' }, ['true'], io),
        (e: unknown) => e instanceof StreamRefused && e.status === 404 && e.message === 'pod does not exist',
      );
      const dflt = await finish(streams.exec({ ...target, container: '' }, ['sh', '-c', 'echo $GREETING'], io));
      assert.equal(dflt.stdout, 'hello-from-spec\n', "no container name: the pod's only one");
    });

    test('a client that goes away ends what the exec started, terminal session and background jobs included', async (t) => {
      if (skip) return t.skip(skip);
      for (const tty of [false, true]) {
        const marker = `${tty ? 4101 : 4102}`;
        const s = streams.exec(target, ['sh', '-c', `sleep ${marker} & echo started; sleep ${marker}`], {
          ...io,
          tty,
          stdin: tty,
        });
        await outputUntil(s, /started/);
        await eventually(`both sleep ${marker} run`, async () => processesWith(marker).length === 2);
        s.close();
        await eventually(`no sleep ${marker} left (tty ${tty})`, async () => processesWith(marker).length === 0);
      }
      await finish(streams.exec(target, ['sh', '-c', 'sleep 0.2 0.0041'], io));
      assert.deepEqual(processesWith('0.0041'), [], 'an exec that ended left nothing');
    });
  });
}

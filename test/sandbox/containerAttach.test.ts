// attach and port-forward on a node: a container's own stdin (closed after the first attach
// with stdinOnce) and its output from the moment of attaching, a container that runs under a
// terminal from its start, and connections to a pod's port, refused in the kubelet's words
// where nothing listens.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { PortForwardFailed, StreamRefused } from '@longshore/sandbox';
import { clientsMissing, eventually, sandboxForSuite } from './support.js';
import { finish, outputUntil, runningPod } from './streamSessions.js';

const all = { stdin: true, stdout: true, stderr: true, tty: false };

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('attach and port-forward on a node', { skip: clientsMissing() }, () => {
  const suite = sandboxForSuite();

  test("attach: the container's stdin, its output from now on, and stdinOnce", async () => {
    const streams = await runningPod(
      suite.sb,
      suite.env,
      'reader',
      `apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    stdin: true
    stdinOnce: true
    command: [sh, -c, 'echo before-attach; while read l; do echo got:$l; echo err:$l >&2; done; echo stdin-closed']
`,
    );
    const s = streams.attach({ namespace: 'default', pod: 'reader', container: 'main' }, all);
    let stderr = '';
    s.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    s.stdin!.write('a\n');
    assert.equal(await outputUntil(s, /got:a\n/), 'got:a\n', 'nothing from before the attach');
    await eventually('stderr apart', async () => stderr === 'err:a\n');
    const r = await finish(s, 'b\n');
    assert.equal(r.stdout, 'got:b\nstdin-closed\n', 'the end of stdin reached the container');
    assert.deepEqual(r.exit, { exitCode: 0 });
  });

  test('attach to a container that runs under a terminal; detaching leaves it running', async () => {
    const streams = await runningPod(
      suite.sb,
      suite.env,
      'term',
      `apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  restartPolicy: Never
  containers:
  - {name: main, image: busybox, stdin: true, tty: true, command: [sh]}
`,
    );
    const target = { namespace: 'default', pod: 'term', container: 'main' };
    const first = streams.attach(target, { ...all, stderr: false, tty: true });
    assert.equal(first.stderr, undefined);
    first.resize(90, 20);
    await new Promise((r) => setTimeout(r, 300));
    first.stdin!.write('stty size; echo $((6*7)); tty\n');
    assert.match(await outputUntil(first, /\/dev\/pts\/\d+\r\n/), /20 90\r\n42\r\n\/dev\/pts\/\d+\r\n/);
    first.close();
    const second = streams.attach(target, { ...all, stderr: false, tty: true });
    second.stdin!.write('exit 5\n');
    assert.deepEqual(await second.exited, { exitCode: 5 });
  });

  test("port-forward: a connection to the pod's listener, and a refusal that says why", async () => {
    const [port, closed] = [await freePort(), await freePort()];
    const streams = await runningPod(
      suite.sb,
      suite.env,
      'listener',
      `apiVersion: v1
kind: Pod
metadata: {name: listener}
spec:
  containers:
  - name: main
    image: busybox
    command: [node, -e, 'require("net").createServer((s) => s.end("pong")).listen(${port}, "127.0.0.1")']
`,
    );
    const target = { namespace: 'default', pod: 'listener' };
    const reply = await eventually(
      'the listener answers',
      async () => {
        const conn = await streams.portForward(target, port).catch(() => undefined);
        if (!conn) return undefined;
        let text = '';
        for await (const c of conn) text += String(c);
        return text;
      },
      15_000,
    );
    assert.equal(reply, 'pong');
    await assert.rejects(
      streams.portForward(target, closed),
      (e: unknown) =>
        e instanceof PortForwardFailed &&
        new RegExp(
          `^error forwarding port ${closed} to pod [0-9a-f-]{36}, uid : failed to execute portforward in network namespace "host": failed to connect to localhost:${closed} inside namespace "[0-9a-f-]{36}", IPv4: dial tcp4 127\\.0\\.0\\.1:${closed}: connect: connection refused IPv6 dial tcp6 \\[::1\\]:${closed}: connect: `,
        ).test(e.message),
    );
    await assert.rejects(
      streams.portForward({ namespace: 'default', pod: 'ghost' }, port),
      (e: unknown) => e instanceof StreamRefused && e.status === 404,
    );
  });
});

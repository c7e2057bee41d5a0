// kubectl exec and attach as a user runs them, against real pods, written once for any API
// server: the sandbox's (streams.test.ts) and the reference kube-apiserver with the sandbox's
// nodes attached (test/control-plane/streamsOnReference.test.ts), so the kubelet side is also
// driven through kube-apiserver's own relay and stream translation.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ClientEnv } from '../support.js';
import { eventually, kubectlPath } from '../support.js';

/** What a scenario needs of a client environment: kubectl runs, and the environment to start kubectl by hand. */
export type StreamClients = Pick<ClientEnv, 'kubectl' | 'environment'>;

/** kubectl's transports: WebSocket (v5, its default since 1.31) and SPDY (the fallback it can be forced to). */
export const EXEC_TRANSPORTS: Record<string, Record<string, string>> = {
  websocket: {},
  spdy: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
};

export const ok = async (k: StreamClients, args: string[], input?: string, timeoutMs = 30_000): Promise<string> => {
  const r = await k.kubectl(args, { ...(input === undefined ? {} : { input }), timeoutMs });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
};

/** Applies a pod and waits until it is Ready (60 s: an autoscaled node may have to come first). */
export async function readyPod(k: StreamClients, manifest: object): Promise<void> {
  const name = (manifest as { metadata: { name: string } }).metadata.name;
  await ok(k, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...manifest }));
  await ok(k, ['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=60s'], undefined, 70_000);
}

/** A busybox pod that sleeps, as `kubectl run x --image=busybox --restart=Never -- sleep 3600` makes it. */
export function shellPod(name: string, nodeSelector?: Record<string, string>): object {
  return {
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      ...(nodeSelector ? { nodeSelector } : {}),
      containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }],
    },
  };
}

/** Exit status, stdout and stderr kept apart, stdin: the ordinary uses of kubectl exec. */
export async function execScenarios(k: StreamClients, pod: string, env: Record<string, string>): Promise<void> {
  const exit3 = await k.kubectl(['exec', pod, '--', 'sh', '-c', 'exit 3'], { env });
  assert.equal(exit3.code, 3, `kubectl exec should exit with the command's status:\n${exit3.stderr}`);
  assert.match(exit3.stderr, /command terminated with exit code 3/);

  const split = await k.kubectl(['exec', pod, '--', 'sh', '-c', 'echo out; echo err >&2'], { env });
  assert.equal(split.code, 0, split.stderr);
  assert.equal(split.stdout, 'out\n');
  assert.equal(split.stderr, 'err\n');

  const input = await k.kubectl(['exec', '-i', pod, '--', 'cat'], { env, input: 'line one\nline two\n' });
  assert.equal(input.code, 0, input.stderr);
  assert.equal(input.stdout, 'line one\nline two\n');
}

/** A number for `sleep N` that no other process on this machine is likely to have. */
export const marker = (): number => 100_000 + Math.floor(Math.random() * 800_000);

/** The command lines of `sleep <n>` processes the pod can see, read through a second exec. */
export async function sleepers(k: StreamClients, pod: string, n: number): Promise<string[]> {
  const listing = await k.kubectl([
    'exec',
    pod,
    '--',
    'sh',
    '-c',
    'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < $f 2>/dev/null; echo; done',
  ]);
  assert.ok(
    listing.stdout.includes('sleep 3600'),
    `the pod's own sleep in the listing (exit ${listing.code}):\n${listing.stderr}`,
  );
  return listing.stdout.split('\n').filter((l) => l.trim() === `sleep ${n}`);
}

/** kubectl stopped (Ctrl-C) while its command runs: the command does not outlive it. */
export async function interruptedExecLeavesNothing(
  k: StreamClients,
  pod: string,
  env: Record<string, string>,
): Promise<void> {
  const n = marker();
  const kubectl = spawn(kubectlPath(), ['exec', pod, '--', 'sleep', String(n)], {
    env: k.environment(env),
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => kubectl.once('exit', () => r()));
  try {
    await eventually(`sleep ${n} running in ${pod}`, async () => (await sleepers(k, pod, n)).length > 0, 20_000);
  } finally {
    kubectl.kill('SIGINT');
  }
  await exited;
  await eventually(
    `sleep ${n} gone after kubectl exited`,
    async () => (await sleepers(k, pod, n)).length === 0,
    10_000,
  );
}

/** `kubectl attach -i` to a container with `stdin: true, stdinOnce: true`: its input reaches the
 *  container, the output comes back, and when kubectl's stdin ends the container's does too. */
export async function attachScenario(k: StreamClients, name: string, env: Record<string, string>): Promise<void> {
  await readyPod(k, {
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'main',
          image: 'busybox',
          stdin: true,
          stdinOnce: true,
          command: ['sh', '-c', 'while read l; do echo "got $l"; done; echo bye'],
        },
      ],
    },
  });
  const r = await k.kubectl(['attach', '-i', name], { env, input: 'one\ntwo\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'got one\ngot two\nbye\n');
  await eventually(
    `${name} completed`,
    async () => (await ok(k, ['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])) === 'Succeeded',
    20_000,
  );
}

/** exec into a pod on a node the autoscaler added: each node has a kubelet endpoint of its own
 *  (its port in the Node's status), and the API server must reach that one. */
export async function execOnAutoscaledNode(k: StreamClients, name: string): Promise<void> {
  await readyPod(k, shellPod(name, { 'longshore.io/node-group': 'autoscaled' }));
  const node = await ok(k, ['get', 'pod', name, '-o', 'jsonpath={.spec.nodeName}']);
  const ports = await ok(k, [
    'get',
    'nodes',
    '-o',
    'jsonpath={range .items[*]}{.metadata.name}={.status.daemonEndpoints.kubeletEndpoint.Port}{"\\n"}{end}',
  ]);
  const byNode = new Map(
    ports
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );
  assert.ok(byNode.size > 1, `a node besides the first:\n${ports}`);
  const own = byNode.get(node);
  assert.ok(own && [...byNode].every(([n, p]) => n === node || p !== own), `${node}'s own kubelet port:\n${ports}`);
  for (const env of Object.values(EXEC_TRANSPORTS)) {
    const r = await k.kubectl(['exec', '-i', name, '--', 'sh', '-c', 'cat; exit 4'], { env, input: 'there\n' });
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'there\n');
  }
}

// kubectl port-forward to a pod that serves HTTP, by pod and by Service, on both of kubectl's
// transports; for any API server, as streamScenarios.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { kubectlPath } from '../support.js';
import { ok, readyPod, type StreamClients } from './streamScenarios.js';

export const PORT_FORWARD_TRANSPORTS: Record<string, Record<string, string>> = {
  'SPDY tunneled over WebSocket': {},
  spdy: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' },
};

/** A port nothing on this machine listens on now: pods share its network. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

// node is on every pod's PATH here (the sandbox runs on it; busybox runs the host's programs).
const SERVER = `require('http').createServer((q, s) => s.end('hello from ' + q.url)).listen(+process.argv[1], '127.0.0.1')`;

/** A pod `app=<name>` answering HTTP on `port`, and a Service `<name>` on port 80 in front of it. */
export async function webPodAndService(k: StreamClients, name: string, port: number): Promise<void> {
  await readyPod(k, {
    metadata: { name, labels: { app: name } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'web',
          image: 'busybox',
          command: ['node', '-e', SERVER, String(port)],
          ports: [{ containerPort: port }],
          readinessProbe: { tcpSocket: { port }, periodSeconds: 1 },
        },
      ],
    },
  });
  await ok(k, ['expose', 'pod', name, '--port=80', `--target-port=${port}`]);
}

const fetchOnce = (port: number, path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    }).on('error', reject);
  });

/** Runs `kubectl port-forward TARGET :PORT`, reads the local port it chose and the pod's port from
 *  its output and fetches `path` through it twice (a second connection opens a second stream pair). */
export async function portForwardFetch(
  k: StreamClients,
  target: string,
  port: number,
  path: string,
  env: Record<string, string>,
): Promise<{ answer: string; podPort: number }> {
  const child = spawn(kubectlPath(), ['port-forward', target, `:${port}`], {
    env: k.environment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [localPort, podPort] = await new Promise<[number, number]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`port-forward did not start:\n${out}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve([Number(m[1]), Number(m[2])]);
        }
      });
      child.on('exit', (code) => reject(new Error(`port-forward exited ${code}:\n${out}`)));
    });
    const answer = await fetchOnce(localPort, path);
    assert.equal(await fetchOnce(localPort, path), answer);
    return { answer, podPort };
  } finally {
    child.kill('SIGTERM');
  }
}

/** Port-forward by pod and by Service (kubectl resolves it to a pod and the Service's port to the pod's). */
export async function portForwardScenarios(
  k: StreamClients,
  name: string,
  port: number,
  env: Record<string, string>,
): Promise<void> {
  const byPod = await portForwardFetch(k, `pod/${name}`, port, '/by-pod', env);
  assert.deepEqual(byPod, { answer: '200 hello from /by-pod', podPort: port });
  const byService = await portForwardFetch(k, `svc/${name}`, 80, '/by-service', env);
  assert.deepEqual(byService, { answer: '200 hello from /by-service', podPort: port });
}

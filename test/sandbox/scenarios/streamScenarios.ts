// exec and port-forward as a user runs them, written once for any API server: the sandbox's
// (exec.test.ts, portForward.test.ts) and the reference kube-apiserver with the sandbox's
// nodes attached. Each takes a runner of unmodified kubectl and a pod that runs `sh`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import type { RunResult } from '../support.js';

export interface KubectlRunner {
  kubectl(
    args: string[],
    opts?: { input?: string; timeoutMs?: number; env?: Record<string, string> },
  ): Promise<RunResult>;
}

/** kubectl's transports: WebSocket (v5, its default since 1.31) and SPDY (the fallback it can be forced to). */
export const EXEC_TRANSPORTS: Record<string, Record<string, string>> = {
  websocket: {},
  spdy: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
};
export const PORT_FORWARD_TRANSPORTS: Record<string, Record<string, string>> = {
  'SPDY tunneled over WebSocket': {},
  spdy: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' },
};

export async function execScenarios(k: KubectlRunner, pod: string, env: Record<string, string>): Promise<void> {
  const hi = await k.kubectl(['exec', pod, '--', 'echo', 'hi'], { env });
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, 'hi\n');

  const exit3 = await k.kubectl(['exec', pod, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { env });
  assert.equal(exit3.code, 3, `kubectl exec should exit with the command's code:\n${exit3.stderr}`);
  assert.equal(exit3.stdout, 'out\n');
  assert.match(exit3.stderr, /^err\n/);
  assert.match(exit3.stderr, /command terminated with exit code 3/);

  const input = await k.kubectl(['exec', '-i', pod, '--', 'sh', '-c', 'tr a-z A-Z'], { env, input: 'shout\nthis\n' });
  assert.equal(input.code, 0, input.stderr);
  assert.equal(input.stdout, 'SHOUT\nTHIS\n');
}

/** Runs `kubectl port-forward pod LOCAL:PORT` and fetches `path` through it. */
export async function portForwardScenario(
  kubectlPath: string,
  baseEnv: Record<string, string>,
  pod: string,
  podPort: number,
  path: string,
): Promise<string> {
  const child = spawn(kubectlPath, ['port-forward', pod, `:${podPort}`], {
    env: baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const localPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`port-forward did not start:\n${out}${err}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code) => reject(new Error(`port-forward exited ${code}:\n${out}${err}`)));
    });
    const fetchOnce = (): Promise<string> =>
      new Promise((resolve, reject) => {
        get({ host: '127.0.0.1', port: localPort, path }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve(`${res.statusCode} ${body}`));
        }).on('error', reject);
      });
    const first = await fetchOnce();
    // A second connection through the same port-forward opens a second stream pair.
    assert.equal(await fetchOnce(), first);
    return first;
  } finally {
    child.kill('SIGTERM');
  }
}

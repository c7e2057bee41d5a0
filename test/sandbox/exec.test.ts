// kubectl exec and port-forward, and @kubernetes/client-node's Exec and PortForward, through
// the sandbox's API server to a node's kubelet endpoint, over every transport kubectl speaks:
// WebSocket v5 and SPDY/3.1 for exec, SPDY tunneled over WebSocket and plain SPDY for
// port-forward; plus the API server's refusals, worded as kube-apiserver words them.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Exec, KubeConfig, PortForward, type V1Status } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { ClientEnv, clientsMissing, kubectlPath, succeeded } from './support.js';
import { startHostStreamNode } from './scenarios/hostStreamNode.js';
import {
  EXEC_TRANSPORTS,
  execScenarios,
  PORT_FORWARD_TRANSPORTS,
  portForwardScenario,
} from './scenarios/streamScenarios.js';

const skip = clientsMissing();

describe('exec and port-forward through the API server', { skip }, () => {
  let sb: Sandbox;
  let env: ClientEnv;
  let stopNode: () => Promise<void>;
  let web: Server;

  before(async () => {
    sb = await startSandbox({ cluster: { enabled: false } });
    env = new ClientEnv(sb.kubeconfigPath);
    stopNode = await startHostStreamNode(env, 'stream-node');
    const pod = (name: string, containers: string[], nodeName?: string): string =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
      });
    await succeeded(env.kubectl(['create', '-f', '-'], { input: pod('shell', ['main'], 'stream-node') }));
    await succeeded(env.kubectl(['create', '-f', '-'], { input: pod('pair', ['a', 'b'], 'stream-node') }));
    await succeeded(env.kubectl(['create', '-f', '-'], { input: pod('unbound', ['main']) }));
    // kubectl port-forward checks the phase itself; no kubelet runs these pods, so say what one would.
    const running = JSON.stringify({ status: { phase: 'Running' } });
    await succeeded(env.kubectl(['patch', 'pod', 'shell', '--subresource=status', '--type=merge', '-p', running]));
    web = createServer((req, res) => res.end(`hello from ${req.url}`));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    web?.close();
    await stopNode?.();
    await sb?.stop();
    env?.cleanup();
  });

  for (const [transport, transportEnv] of Object.entries(EXEC_TRANSPORTS)) {
    it(`kubectl exec over ${transport}: output, exit codes, stdin`, async () => {
      await execScenarios(env, 'shell', transportEnv);
    });
  }

  for (const [transport, transportEnv] of Object.entries(PORT_FORWARD_TRANSPORTS)) {
    it(`kubectl port-forward over ${transport} serves an HTTP request`, async () => {
      const port = (web.address() as AddressInfo).port;
      const answer = await portForwardScenario(
        kubectlPath(),
        { PATH: process.env.PATH ?? '', HOME: env.dir, KUBECONFIG: sb.kubeconfigPath, ...transportEnv },
        'pod/shell',
        port,
        '/through-the-tunnel',
      );
      assert.equal(answer, '200 hello from /through-the-tunnel');
    });
  }

  it('client-node Exec reports the exit status on the error channel', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    const run = (command: string[]): Promise<{ out: string; status: V1Status }> =>
      new Promise((resolve, reject) => {
        let out = '';
        const stdout = new Writable({
          write: (c: Buffer, _e, cb) => {
            out += c.toString();
            cb();
          },
        });
        void new Exec(kc)
          .exec('default', 'shell', 'main', command, stdout, null, null, false, (status) => resolve({ out, status }))
          .catch(reject);
      });
    const ok = await run(['echo', 'fine']);
    assert.equal(ok.out, 'fine\n');
    assert.equal(ok.status.status, 'Success');
    const failed = await run(['sh', '-c', 'exit 7']);
    assert.equal(failed.status.status, 'Failure');
    assert.equal(failed.status.reason, 'NonZeroExitCode');
    assert.deepEqual(failed.status.details?.causes, [{ reason: 'ExitCode', message: '7' }]);
    assert.equal(
      failed.status.message,
      'command terminated with non-zero exit code: error executing command [sh -c exit 7], exit code 7',
    );
  });

  it('client-node PortForward carries a connection over WebSocket channels', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    const input = new PassThrough();
    let received = '';
    const output = new Writable({
      write: (c: Buffer, _e, cb) => {
        received += c.toString();
        cb();
      },
    });
    const ws = await new PortForward(kc).portForward(
      'default',
      'shell',
      [(web.address() as AddressInfo).port],
      output,
      null,
      input,
    );
    input.write('GET /client-node HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const deadline = Date.now() + 10_000;
    while (!received.includes('hello from /client-node') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    (ws as { close(): void }).close();
    assert.match(received, /^HTTP\/1\.1 200 OK/);
    assert.match(received, /hello from \/client-node$/);
  });

  it('refuses as kube-apiserver does: no container named, unknown container, no node, no pod', async () => {
    const cases: [string[], RegExp][] = [
      [['exec', 'shell', '-c', 'nope', '--', 'true'], /container nope is not valid for pod shell/],
      [['exec', 'unbound', '--', 'true'], /pod unbound does not have a host assigned/],
      [['exec', 'missing', '--', 'true'], /pods "missing" not found/],
    ];
    for (const [args, message] of cases) {
      for (const transportEnv of Object.values(EXEC_TRANSPORTS)) {
        const r = await env.kubectl(args, { env: transportEnv });
        assert.notEqual(r.code, 0, args.join(' '));
        assert.match(r.stderr, message, `${args.join(' ')}: ${r.stderr}`);
      }
    }
    // kubectl picks a container itself; a client that names none gets kube-apiserver's list.
    const answer = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = request(`${sb.server}/api/v1/namespaces/default/pods/pair/exec?command=true&stdout=true`, {
        ca: sb.caPem,
        headers: {
          Authorization: `Bearer ${sb.adminToken}`,
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Protocol': 'v5.channel.k8s.io',
        },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('upgrade', () => reject(new Error('upgraded without a container')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(answer.code, 400);
    const status = JSON.parse(answer.body) as V1Status;
    assert.equal(status.reason, 'BadRequest');
    assert.equal(status.message, 'a container name must be specified for pod pair, choose one of: [a b]');
  });
});

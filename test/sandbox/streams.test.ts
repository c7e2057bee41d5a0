// kubectl exec, attach, run -it and port-forward, and @kubernetes/client-node's Exec and
// PortForward, against real pods of a sandbox: through its API server to the kubelet endpoint of
// the node that runs them, over every transport kubectl speaks (WebSocket v5 and SPDY/3.1 for
// exec and attach, SPDY tunneled over WebSocket and plain SPDY for port-forward). The same
// scenarios run against the reference kube-apiserver in test/control-plane/streamsOnReference.test.ts.
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { before, describe, it } from 'node:test';
import { Exec, KubeConfig, PortForward, type V1Status } from '@kubernetes/client-node';
import { clientsMissing, sandboxForSuite } from './support.js';
import {
  attachScenario,
  EXEC_TRANSPORTS,
  execOnAutoscaledNode,
  execScenarios,
  interruptedExecLeavesNothing,
  ok,
  readyPod,
  shellPod,
} from './scenarios/streamScenarios.js';
import { execTerminalScenario, runInteractiveScenario } from './scenarios/terminalScenarios.js';
import {
  freePort,
  PORT_FORWARD_TRANSPORTS,
  portForwardScenarios,
  webPodAndService,
} from './scenarios/portForwardScenarios.js';

const skip = clientsMissing();

describe('exec, attach and port-forward with real pods', { skip, concurrency: 1 }, () => {
  const suite = sandboxForSuite();
  let webPort = 0;
  const kubeConfig = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromFile(suite.sb.kubeconfigPath);
    return kc;
  };

  before(async () => {
    await readyPod(suite.env, shellPod('shell'));
    webPort = await freePort();
    await webPodAndService(suite.env, 'web', webPort);
  });

  for (const [transport, env] of Object.entries(EXEC_TRANSPORTS)) {
    it(`kubectl exec over ${transport}: exit status, stdout and stderr apart, stdin`, () =>
      execScenarios(suite.env, 'shell', env));
    it(`kubectl exec -it over ${transport}: a terminal of kubectl's size, exit status`, () =>
      execTerminalScenario(suite.env, 'shell', env));
    it(`kubectl exec over ${transport} interrupted: its command does not outlive it`, () =>
      interruptedExecLeavesNothing(suite.env, 'shell', env));
    it(`kubectl attach -i over ${transport}`, () => attachScenario(suite.env, `attach-${transport}`, env));
    it(`kubectl run -it --rm over ${transport}`, () => runInteractiveScenario(suite.env, `run-${transport}`, env));
  }

  for (const [transport, env] of Object.entries(PORT_FORWARD_TRANSPORTS)) {
    it(`kubectl port-forward pod/ and svc/ over ${transport}`, () =>
      portForwardScenarios(suite.env, 'web', webPort, env));
  }

  it('kubectl exec into a pod on an autoscaled node', () => execOnAutoscaledNode(suite.env, 'far'));

  it('client-node Exec reports the exit status on the error channel', async () => {
    const run = (command: string[]): Promise<{ out: string; status: V1Status }> =>
      new Promise((resolve, reject) => {
        let out = '';
        const stdout = new Writable({
          write: (c: Buffer, _e, cb) => {
            out += c.toString();
            cb();
          },
        });
        void new Exec(kubeConfig())
          .exec('default', 'shell', 'main', command, stdout, null, null, false, (status) => resolve({ out, status }))
          .catch(reject);
      });
    const fine = await run(['echo', 'fine']);
    assert.equal(fine.out, 'fine\n');
    assert.equal(fine.status.status, 'Success');
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
    const input = new PassThrough();
    let received = '';
    const output = new Writable({
      write: (c: Buffer, _e, cb) => {
        received += c.toString();
        cb();
      },
    });
    const ws = await new PortForward(kubeConfig()).portForward('default', 'web', [webPort], output, null, input);
    input.write('GET /client-node HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const deadline = Date.now() + 10_000;
    while (!received.includes('hello from /client-node') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    (ws as { close(): void }).close();
    assert.match(received, /^HTTP\/1\.1 200 OK/);
    assert.match(received, /hello from \/client-node$/);
  });

  it('kubectl shows the refusals as kube-apiserver words them', async () => {
    const unbound = shellPod('unbound') as { spec: object };
    await ok(
      suite.env,
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...unbound, spec: { ...unbound.spec, schedulerName: 'none' } }),
    );
    const cases: [string[], RegExp][] = [
      [['exec', 'shell', '-c', 'nope', '--', 'true'], /container nope is not valid for pod shell/],
      [['exec', 'unbound', '--', 'true'], /pod unbound does not have a host assigned/],
      [['exec', 'missing', '--', 'true'], /pods "missing" not found/],
    ];
    for (const [args, message] of cases) {
      for (const env of Object.values(EXEC_TRANSPORTS)) {
        const r = await suite.env.kubectl(args, { env });
        assert.notEqual(r.code, 0, args.join(' '));
        assert.match(r.stderr, message, `${args.join(' ')}: ${r.stderr}`);
      }
    }
  });
});

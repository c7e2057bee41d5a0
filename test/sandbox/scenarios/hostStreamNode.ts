// A Node whose kubelet endpoint is the sandbox's KubeletServer with ContainerStreams that run
// commands on this host with plain pipes (no container, no terminal) and connect to the host's
// ports: the streaming protocols and the API server's relay are exercised end to end with
// unmodified clients, independently of how a virtual node isolates a container.
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import {
  generateCertificates,
  KubeletServer,
  LogStore,
  type ContainerStreams,
  type StreamSession,
} from '@longshore/sandbox';
import type { KubectlRunner } from './streamScenarios.js';
import { succeeded } from '../support.js';

export const hostStreams: ContainerStreams = {
  exec(_target, command, opts): StreamSession {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<{ exitCode: number } | { error: string }>((resolve) => {
      child.on('error', (err) => resolve({ error: err.message }));
      child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 137 : 1) }));
    });
    if (!opts.stdin) child.stdin.end();
    // Node discards a child's unread output when it exits, and the session may be read only once the
    // client has opened its streams: hold the output until then.
    const stdout = child.stdout.pipe(new PassThrough());
    const stderr = child.stderr.pipe(new PassThrough());
    return {
      ...(opts.stdin ? { stdin: child.stdin } : {}),
      stdout,
      ...(opts.stderr ? { stderr } : {}),
      resize: () => undefined,
      exited,
      close: () => child.kill('SIGKILL'),
    };
  },
  attach() {
    throw new Error('attach is not served by this node');
  },
  portForward(_target, port) {
    return new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
  },
};

/** Starts the endpoint and registers a Ready Node for it; returns a stop function. */
export async function startHostStreamNode(k: KubectlRunner, name: string): Promise<() => Promise<void>> {
  const tls = await generateCertificates(['127.0.0.1']);
  const kubelet = new KubeletServer(
    { key: tls.keyPem, cert: tls.certPem },
    new LogStore(),
    () => Promise.resolve([]),
    () => undefined,
    hostStreams,
  );
  const port = await kubelet.listen('127.0.0.1');
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name } };
  await succeeded(k.kubectl(['create', '-f', '-'], { input: JSON.stringify(node) }), 'create node');
  const status = {
    status: {
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: port } },
    },
  };
  await succeeded(
    k.kubectl(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]),
    'node status',
  );
  return () => kubelet.close();
}

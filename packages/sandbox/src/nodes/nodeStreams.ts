// A virtual node's ContainerStreams: finds the pod and its running container as the kubelet
// does, refuses with the kubelet's words, and hands exec, attach and port-forward to their
// modules. It keeps the sessions it started, so a node that stops ends them.
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { startAttach } from './containerAttach.js';
import { startExec } from './containerExec.js';
import type { ContainerRuntime } from './containerRuntime.js';
import {
  StreamRefused,
  type ContainerStreams,
  type StreamOptions,
  type StreamSession,
  type StreamTarget,
} from './containerStreams.js';
import type { LogStore } from './logStore.js';
import type { ContainerInRun, PodWorker } from './podWorker.js';

/** A connection to a pod's port that could not be made, worded as the kubelet reports it. */
export class PortForwardFailed extends Error {
  override readonly name = 'PortForwardFailed';
  readonly code = 'PortForwardFailed';
}

export interface NodeStreamsHost {
  worker(namespace: string, pod: string): PodWorker | undefined;
  logs: LogStore;
  runtime: ContainerRuntime;
}

/** Go's words for a failed dial (net.OpError), which the kubelet's message carries. */
function dialError(network: 'tcp4' | 'tcp6', address: string, err: NodeJS.ErrnoException): string {
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    EADDRNOTAVAIL: 'cannot assign requested address',
    ENETUNREACH: 'network is unreachable',
    ETIMEDOUT: 'connection timed out',
  };
  return `dial ${network} ${address}: connect: ${words[err.code ?? ''] ?? err.message}`;
}

function dial(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export class NodeContainerStreams implements ContainerStreams {
  private readonly sessions = new Set<StreamSession>();

  constructor(private readonly host: NodeStreamsHost) {}

  private pod(namespace: string, name: string): PodWorker {
    const w = this.host.worker(namespace, name);
    if (!w) throw new StreamRefused(404, 'pod does not exist');
    return w;
  }

  /** As the kubelet's findContainer: only a container whose process runs now is found. */
  private container(target: StreamTarget): { worker: PodWorker; name: string; c: ContainerInRun } {
    const worker = this.pod(target.namespace, target.pod);
    const name = target.container || worker.defaultContainer();
    const c = worker.runningContainer(name);
    if (!c) throw new StreamRefused(500, `container not found (${JSON.stringify(name)})`);
    return { worker, name, c };
  }

  private track(session: StreamSession): StreamSession {
    this.sessions.add(session);
    const forget = (): boolean => this.sessions.delete(session);
    void session.exited.finally(forget);
    return {
      ...session,
      close: () => {
        forget();
        session.close();
      },
    };
  }

  exec(target: StreamTarget, command: string[], opts: StreamOptions): StreamSession {
    if (command.length === 0) throw new StreamRefused(400, 'you must specify at least one command for the container');
    const { c } = this.container(target);
    return this.track(
      startExec(
        {
          pid: c.proc.pid,
          env: c.env,
          workingDir: c.workingDir,
          mounts: c.mounts,
          cgroup: c.cgroup,
          runtime: this.host.runtime,
          programs: c.programs,
        },
        command,
        opts,
      ),
    );
  }

  attach(target: StreamTarget, opts: StreamOptions): StreamSession {
    const { worker, name, c } = this.container(target);
    const tap = (fn: (stream: string, chunk: string | undefined) => void): (() => void) | undefined =>
      this.host.logs.tap(worker.namespace, worker.name, name, fn);
    return this.track(startAttach(c, tap, opts));
  }

  async portForward(target: Omit<StreamTarget, 'container'>, port: number): Promise<Duplex> {
    const worker = this.pod(target.namespace, target.pod);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new StreamRefused(400, `invalid port: ${String(port)}: must be between 1 and 65535, inclusive`);
    const prefix = `error forwarding port ${port} to pod ${worker.uid}, uid : `;
    if (!worker.isRunning) throw new PortForwardFailed(`${prefix}sandbox container is not running`);
    // Pods share the node's network (see the README): the pod's port is the host's loopback port.
    try {
      return await dial('127.0.0.1', port);
    } catch (err4) {
      try {
        return await dial('::1', port);
      } catch (err6) {
        const v4 = dialError('tcp4', `127.0.0.1:${port}`, err4 as NodeJS.ErrnoException);
        const v6 = dialError('tcp6', `[::1]:${port}`, err6 as NodeJS.ErrnoException);
        throw new PortForwardFailed(
          `${prefix}failed to execute portforward in network namespace "host": failed to connect to localhost:${port} inside namespace "${worker.uid}", IPv4: ${v4} IPv6 ${v6} `,
        );
      }
    }
  }

  /** Ends every session this node started (the node stops). */
  closeAll(): void {
    for (const s of [...this.sessions]) s.close();
    this.sessions.clear();
  }
}

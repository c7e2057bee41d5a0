// What the kubelet endpoint's streaming routes (/exec, /attach, /portForward) ask of a node: a
// process in a running container's isolation, the streams of a container already running, and
// a connection to a pod's port. The protocols (WebSocket channels, SPDY) live in the kubelet
// server; the processes live here, behind this interface, so each can be tested alone.
import type { Duplex, Readable, Writable } from 'node:stream';

export interface StreamTarget {
  namespace: string;
  pod: string;
  /** Empty: the pod's only container, or its first as `kubectl.kubernetes.io/default-container` names it. */
  container: string;
}

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** A pseudo-terminal: stdout carries the terminal (stderr is merged into it), resize applies. */
  tty: boolean;
}

/** How a stream session ended: the command's exit code, or why it could not run (`error`: the
 *  whole message as the kubelet words it, "error executing command in container: ...", for the
 *  InternalError Status it answers with). */
export type StreamExit = { exitCode: number } | { error: string };

export interface StreamSession {
  stdin?: Writable;
  stdout?: Readable;
  stderr?: Readable;
  /** The terminal's size in columns and rows (ignored without a tty). */
  resize(cols: number, rows: number): void;
  /** Settles once the process has ended and its output has been read to the end. */
  exited: Promise<StreamExit>;
  /** The client went away: end what this session started (exec) or let go of it (attach). */
  close(): void;
}

/** A refusal before any stream opens: the kubelet answers it with this HTTP status and message. */
export class StreamRefused extends Error {
  override readonly name = 'StreamRefused';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ContainerStreams {
  /** Runs `command` in the container's mounts, working directory, environment and cgroup. */
  exec(target: StreamTarget, command: string[], opts: StreamOptions): StreamSession;
  /** The container's own stdin (when its spec has `stdin: true`) and its output from now on. */
  attach(target: StreamTarget, opts: StreamOptions): StreamSession;
  /** A connection to `port` of a pod running on this node. */
  portForward(target: Omit<StreamTarget, 'container'>, port: number): Promise<Duplex>;
}

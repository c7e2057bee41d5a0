// One exec or attach session over the streams a client opened (whatever carried them: WebSocket
// channels or SPDY streams), as the kubelet's remotecommand.ServeExec/ServeAttach runs it:
// stdin in, stdout/stderr out, terminal sizes from the resize stream, and at the end the
// outcome on the error stream — a metav1.Status in JSON from v4 on, only a failure's message
// before that.
import type { Readable, Writable } from 'node:stream';
import type { StreamExit, StreamSession } from '../nodes/containerStreams.js';
import { TerminalSizeReader } from './terminalSize.js';

export interface RemoteCommandStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  error: Writable;
  resize?: Readable;
}

/** Which status format the error stream carries: v4 and v5 write JSON, older versions text. */
export type StatusFormat = 'json' | 'text';

type Status = Record<string, unknown>;

const SUCCESS: Status = { metadata: {}, status: 'Success' };

function internalError(message: string): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  };
}

/** The status the kubelet writes when a session ends (attach never reports an exit code). */
export function exitStatus(kind: 'exec' | 'attach', command: string[], exit: StreamExit): Status {
  if ('error' in exit)
    return internalError(`error ${kind === 'exec' ? 'executing command' : 'attaching to container'}: ${exit.error}`);
  if (kind === 'attach' || exit.exitCode === 0) return SUCCESS;
  return {
    metadata: {},
    status: 'Failure',
    // The container runtime's words (containerd's CodeExitError), wrapped by the kubelet.
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exit.exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exit.exitCode) }] },
  };
}

const finished = (w: Writable): Promise<void> =>
  new Promise((resolve) => {
    if (w.writableFinished || w.destroyed) return resolve();
    w.once('finish', resolve);
    w.once('close', resolve);
    w.once('error', () => resolve());
  });

function pipeOut(from: Readable | undefined, to: Writable | undefined): Promise<void> {
  if (!to) {
    from?.resume();
    return Promise.resolve();
  }
  if (!from) {
    to.end();
    return finished(to);
  }
  from.on('error', () => to.end());
  from.pipe(to);
  return finished(to);
}

/**
 * Runs `session` against the client's streams and writes the outcome on the error stream.
 * Resolves when everything has been written; the caller then closes the connection.
 */
export async function serveRemoteCommand(
  kind: 'exec' | 'attach',
  command: string[],
  session: StreamSession,
  streams: RemoteCommandStreams,
  format: StatusFormat,
): Promise<void> {
  if (streams.stdin && session.stdin) {
    const stdin = session.stdin;
    stdin.on('error', () => undefined);
    streams.stdin.pipe(stdin);
  } else streams.stdin?.resume();
  if (streams.resize) new TerminalSizeReader(streams.resize, (w, h) => session.resize(w, h));
  const outputs = Promise.all([pipeOut(session.stdout, streams.stdout), pipeOut(session.stderr, streams.stderr)]);
  const exit = await session.exited.catch((err: Error): StreamExit => ({ error: err.message }));
  await outputs;
  const status = exitStatus(kind, command, exit);
  if (format === 'json') streams.error.write(JSON.stringify(status));
  else if (status.status !== 'Success') streams.error.write(String(status.message));
  streams.error.end();
  await finished(streams.error);
}

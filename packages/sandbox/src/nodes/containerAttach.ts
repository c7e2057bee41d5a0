// attach to a running container: its own stdin (when its spec has `stdin: true`) and its output
// from now on, as the container writes it — a tap on what the log store receives, so a shell's
// prompt (no newline) arrives at once and nothing earlier is replayed. Detaching leaves the
// container running; with `stdinOnce: true` its stdin closes once the first attach with stdin
// lets go, as containerd does, and later attaches get no stdin.
import { PassThrough, Writable } from 'node:stream';
import type { StreamExit, StreamOptions, StreamSession } from './containerStreams.js';
import type { ContainerInRun } from './podWorker.js';

/** Subscribes to the container's current output; returns how to stop, undefined when it has none. */
export type OutputTap = (fn: (stream: string, chunk: string | undefined) => void) => (() => void) | undefined;

/** Writes to the container's stdin without ever ending it, except when `stdinOnce` says so. */
function stdinOf(c: ContainerInRun): Writable | undefined {
  const target = c.proc.stdin;
  if (!target || target.writableEnded || target.destroyed) return undefined;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    if (c.stdinOnce) target.end();
  };
  const input = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (target.writableEnded || target.destroyed) return done();
      target.write(chunk, () => done());
    },
    final(done) {
      release();
      done();
    },
  });
  input.on('close', release);
  return input;
}

export function startAttach(c: ContainerInRun, tap: OutputTap, opts: StreamOptions): StreamSession {
  const stdout = opts.stdout ? new PassThrough() : undefined;
  const stderr = opts.stderr && !c.proc.tty ? new PassThrough() : undefined;
  const stdin = opts.stdin ? stdinOf(c) : undefined;
  const endOutputs = (): void => {
    stdout?.end();
    stderr?.end();
  };
  const untap = tap((stream, chunk) => {
    if (chunk === undefined) return endOutputs();
    // A terminal has one output: stderr was merged into it before it reached the log.
    const to = stream === 'stderr' && !c.proc.tty ? stderr : stdout;
    to?.write(chunk);
  });
  if (!untap) endOutputs();
  const exited = c.ended.then((exit): StreamExit => ({ exitCode: exit.exitCode }));
  return {
    ...(stdin ? { stdin } : {}),
    ...(stdout ? { stdout } : {}),
    ...(stderr ? { stderr } : {}),
    resize(cols, rows) {
      if (opts.tty) c.proc.resize(cols, rows);
    },
    exited,
    close() {
      untap?.();
      endOutputs();
      stdin?.destroy();
    },
  };
}

/**
 * Makes a script's process group die with its worker, even when the worker is killed with
 * SIGKILL and runs no code of its own afterwards.
 *
 * The worker spawns the command with one more stdio pipe (fd LIFELINE_FD) and never writes to
 * it. A shell in the script's process group blocks reading that pipe: it gets end-of-file only
 * when the worker's end closes, which the kernel does however the worker dies, at once. It then
 * kills the whole group. Why this and not the alternatives:
 * - PR_SET_PDEATHSIG needs a native addon (Node has no prctl), and fires on the death of the
 *   spawning thread, not the process.
 * - `bwrap --die-with-parent` needs bubblewrap, which a host running the local worker may lack.
 * - Polling the worker's pid costs a process and up to a period of delay, and a recycled pid
 *   reads as alive.
 * A pipe needs nothing but `sh` (the bootstrap needs it anyway) and works on any POSIX system.
 *
 * It reaches the script's process group only: a script that moves processes into a group or
 * session of their own (setsid, job control) takes them out of the worker's reach, as with cancel.
 */

/** The file descriptor of the lifeline in the spawned process: the first one after stdio. */
export const LIFELINE_FD = 3;

/** The name the guarding shell runs under ($0), so that it can be told apart in a process listing. */
export const LIFELINE_NAME = 'longshore-lifeline';

// The guard holds only the lifeline (not the worker's stdout/stderr pipes, whose end the worker
// waits for) and the command runs without it. `read` returns at end-of-file, as nothing is ever
// written. The guard is a fork of this shell, which then becomes the command by exec: the
// command keeps the pid (and so leads the process group) the worker spawned.
const GUARD = `{ read -r _ <&${LIFELINE_FD}; kill -KILL 0; } </dev/null >/dev/null 2>&1 &
exec "$@" ${LIFELINE_FD}<&-`;

/**
 * The command that runs `command` guarded by the lifeline: spawn it in a process group of its
 * own with a pipe at fd LIFELINE_FD, and destroy that pipe once the command exited (the guard
 * then kills what the command left in its group).
 */
export function withLifeline(command: readonly string[]): string[] {
  return ['sh', '-c', GUARD, LIFELINE_NAME, ...command];
}

// How an exec'd command is started in a running container, as argv: the pure half of exec.
//
// Inside the container's view a small sh (INNER) takes the terminal's first size (from fd 4,
// when there is a terminal), goes to the container's working directory, checks that the command
// can be executed there — as runc does before it starts an exec, so that a missing program is an
// error of the exec and not an exit status of some shell — and execs it. What it found wrong goes
// to the node on fd 3, which is closed before the command starts, so the command never sees it.
export const STATUS_FD = 3;
export const SIZE_FD = 4;

const INNER = [
  'w=$1 stty=$2; shift 2',
  `if [ -n "$stty" ]; then IFS= read -r size <&${SIZE_FD} || :; exec ${SIZE_FD}<&-; [ -z "$size" ] || "$stty" $size 2>/dev/null || :; fi`,
  `cd "$w" 2>/dev/null || { echo "chdir to cwd (\\"$w\\") set in config.json failed: no such file or directory" >&${STATUS_FD}; exit 126; }`,
  'case $1 in',
  `*/*) if [ ! -e "$1" ]; then echo "exec: \\"$1\\": stat $1: no such file or directory" >&${STATUS_FD}; exit 127; fi`,
  `  if [ -d "$1" ] || [ ! -x "$1" ]; then echo "exec: \\"$1\\": permission denied" >&${STATUS_FD}; exit 126; fi ;;`,
  `*) found=; IFS=:; for d in $PATH; do if [ -f "\${d:-.}/$1" ] && [ -x "\${d:-.}/$1" ]; then found=1; break; fi; done; unset IFS`,
  `  if [ -z "$found" ]; then echo "exec: \\"$1\\": executable file not found in \\$PATH" >&${STATUS_FD}; exit 127; fi ;;`,
  'esac',
  `exec ${STATUS_FD}>&-`,
  'exec "$@"',
].join('\n');

/** The command as INNER runs it; `stty`: the host's stty when a first terminal size is awaited. */
export function innerArgv(workingDir: string, command: readonly string[], stty: string | undefined): string[] {
  return ['/bin/sh', '-c', INNER, 'sh', workingDir, stty ?? '', ...command];
}

/** How the exec enters the container: its own namespaces, a fresh isolation with its mount plan, or the host. */
export type ExecEntry =
  | { kind: 'join'; nsenter: string; pid: number; user: boolean }
  | { kind: 'fresh'; argv(inner: string[]): string[] }
  | { kind: 'host' };

/** nsenter into the target's mount namespace (and user namespace, when it has its own) and root:
 *  --preserve-credentials keeps the node's user, which is what the container runs as there. */
export function nsenterArgv(nsenter: string, pid: number, user: boolean, inner: readonly string[]): string[] {
  return [
    nsenter,
    `--target=${pid}`,
    ...(user ? ['--user', '--preserve-credentials'] : []),
    '--mount',
    '--root',
    '--wd',
    '--',
    ...inner,
  ];
}

export function enteredArgv(entry: ExecEntry, inner: string[]): string[] {
  if (entry.kind === 'join') return nsenterArgv(entry.nsenter, entry.pid, entry.user, inner);
  return entry.kind === 'fresh' ? entry.argv(inner) : inner;
}

/** The kubelet's words for an exec the runtime could not start (containerd and runc beneath it). */
export function execFailure(execID: string, runcError: string): string {
  return `error executing command in container: failed to exec in container: failed to start exec "${execID}": OCI runtime exec failed: exec failed: unable to start container process: ${runcError}: unknown`;
}

/** The container's program for a name its image maps to a host command (`longshore` in the worker image). */
export function imageProgram(programs: Readonly<Record<string, string[]>> | undefined, command: string[]): string[] {
  const name = command[0];
  const program = name !== undefined && programs && Object.hasOwn(programs, name) ? programs[name] : undefined;
  return program ? [...program, ...command.slice(1)] : command;
}

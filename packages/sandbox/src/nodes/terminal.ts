// Pseudo-terminals without a pty API: Node.js has none, so a command that needs a terminal
// (`kubectl exec -t`, a container with `tty: true`) runs under util-linux's `script`, which
// every host with `unshare` has. It opens a pty, makes it the controlling terminal of a new
// session for the command, copies its own stdin to the terminal and the terminal to its stdout;
// when its stdin ends it types the terminal's EOF character (so `cat` ends), and with -e it
// exits with the command's status (128+n for a signal). The window size is set from outside
// with `stty -F` on the terminal as a process of the session holds it (/proc/<pid>/fd/0), which
// makes the kernel send SIGWINCH to the session's foreground.
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { findExecutable } from './hostCommands.js';
import { processTree } from './processTable.js';

export interface TerminalTools {
  script: string;
  stty: string;
}

let found: TerminalTools | null | undefined;
/** The host's `script` and `stty`, undefined where either is missing. */
export function terminalTools(): TerminalTools | undefined {
  if (found === undefined) {
    const script = findExecutable('script');
    const stty = findExecutable('stty');
    found = script && stty ? { script, stty } : null;
  }
  return found ?? undefined;
}

/** Why a terminal cannot be given here (for the messages that say so). */
export const NO_TERMINAL = 'this node cannot allocate a terminal: util-linux `script` and coreutils `stty` are needed';

export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * `argv` under a new pseudo-terminal, with the environment to start it with. `script` runs its
 * command through $SHELL: it gets /bin/sh, and the command line gives the command back the
 * SHELL of `env` (or none) before it execs.
 */
export function underTerminal(
  tools: TerminalTools,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): { argv: string[]; env: Record<string, string> } {
  const restore = env.SHELL === undefined ? 'unset SHELL; ' : `SHELL=${shellQuote(env.SHELL)}; `;
  const line = `${restore}exec ${argv.map(shellQuote).join(' ')}`;
  return { argv: [tools.script, '-q', '-e', '-c', line, '/dev/null'], env: { ...env, SHELL: '/bin/sh' } };
}

/** A process of `root`'s tree whose stdin is a terminal (the session `script` made). */
export function terminalHolder(root: number): number | undefined {
  for (const pid of processTree(root)) {
    try {
      if (/\/pts\/\d+$/.test(readlinkSync(`/proc/${pid}/fd/0`))) return pid;
    } catch {
      /* gone, or not ours to read */
    }
  }
  return undefined;
}

/** Sets the window size of the terminal under `root`; false where there is none (yet). */
export function resizeTerminal(tools: TerminalTools, root: number, cols: number, rows: number): Promise<boolean> {
  const holder = terminalHolder(root);
  if (holder === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const c = spawn(tools.stty, ['-F', `/proc/${holder}/fd/0`, 'cols', String(cols), 'rows', String(rows)], {
      stdio: 'ignore',
    });
    c.once('error', () => resolve(false));
    c.once('close', (code) => resolve(code === 0));
  });
}

/** A size from a client, as whole numbers stty accepts (0..65535); undefined for nonsense. */
export function terminalSize(cols: number, rows: number): { cols: number; rows: number } | undefined {
  const ok = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;
  return ok(cols) && ok(rows) ? { cols, rows } : undefined;
}

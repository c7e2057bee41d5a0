// The container runtime on bubblewrap: the mount plan becomes bwrap's arguments. bwrap
// builds the new root in its own tmpfs and takes the container down with it when the node
// process dies (--die-with-parent).
import { readFileSync } from 'node:fs';
import type { ContainerRuntime } from './containerRuntime.js';
import { findExecutable, tryCommand } from './hostCommands.js';
import { planMounts, realHostFs, type MountPlan } from './mountPlan.js';
import { namespaceOf, processTree } from './processTable.js';

export function bwrapArgs(plan: MountPlan): string[] {
  const args: string[] = ['--die-with-parent'];
  if (plan.root === 'host') args.push('--dev-bind', '/', '/');
  for (const s of plan.steps) {
    if (s.op === 'dir') args.push('--dir', s.path);
    else if (s.op === 'symlink') args.push('--symlink', s.target, s.path);
    else if (s.op === 'host') args.push('--dev-bind', s.path, s.path);
    else args.push(s.readOnly ? '--ro-bind' : '--bind', s.source, s.path);
  }
  args.push('--chdir', plan.cwd);
  return args;
}

/** bwrap makes the mounts in a child of its own, in a new mount namespace, which then execs the
 *  command: set up once a process of the tree there is no longer bwrap. */
function commandStarted(pid: number, bwrapPath: string): boolean {
  const own = namespaceOf('self', 'mnt');
  return processTree(pid).some((p) => {
    if (namespaceOf(p, 'mnt') === own) return false;
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0] !== bwrapPath;
    } catch {
      return false;
    }
  });
}

export function bubblewrapRuntime(bwrapPath: string): ContainerRuntime {
  return {
    kind: 'bubblewrap',
    isolate: (r) => ({
      argv: [bwrapPath, ...bwrapArgs(planMounts(realHostFs, r.mounts, r.dirs, r.workingDir)), '--', ...r.argv],
      supervised: true,
      setUp: (pid) => commandStarted(pid, bwrapPath),
      setupFailure: () => undefined,
      cleanup: () => undefined,
    }),
  };
}

/** Installed is not enough: without user namespaces (and not setuid) bwrap cannot mount. */
export function probeBubblewrap(): { path: string } | { failure: string } {
  const path = findExecutable('bwrap');
  if (!path) return { failure: 'bwrap (bubblewrap) is not installed' };
  const failure = tryCommand([path, '--die-with-parent', '--dev-bind', '/', '/', '--', 'true']);
  return failure ? { failure } : { path };
}

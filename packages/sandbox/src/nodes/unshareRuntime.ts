// The container runtime for hosts without bubblewrap: util-linux's unshare makes a user and a
// mount namespace, and a small sh prelude carries out the mount plan in it before it execs
// the command, so the mounts exist for the container only and the host is never changed.
// A rebuilt root is a tmpfs on a scratch directory the container then chroots into.
//
// The container runs as root of its user namespace (mapped to the node's own user): only uid 0
// there keeps the capabilities to mount across exec, and uid 0 is also what a container
// without runAsUser gets on a real cluster. The prelude's stderr goes to a setup log that it
// ends with a done line on success, so a failed setup becomes the container's StartError
// message rather than a line in its log. The prelude writes that line through the descriptor it
// opened before mounting: a volume over /tmp hides the log's path from it, never the open file.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INSTALL_HINT, type ContainerRuntime } from './containerRuntime.js';
import { findExecutable, tryCommand } from './hostCommands.js';
import { planMounts, realHostFs, type MountPlan } from './mountPlan.js';

/** Absolute paths, because the container's own PATH (from its pod spec) may lack /usr/sbin. */
export interface UnshareTools {
  unshare: string;
  setpriv: string;
  chroot: string;
  mount: string;
  umount: string;
  findmnt: string;
  mountpoint: string;
  mkdir: string;
  ln: string;
}

const NOT_STARTED = 'unshare could not create the user and mount namespaces (its message is in the container log)';
const SETUP_DONE = 'longshore: the container is set up';

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The prelude: `sh -c <script> sh <command...>`. */
export function unshareScript(plan: MountPlan, t: UnshareTools, scratch: string): string {
  const log = q(join(scratch, 'setup.log'));
  const rebuilt = plan.root === 'rebuilt';
  const at = (p: string): string => (rebuilt ? `"$R"${q(p)}` : q(p));
  const lines = [
    `exec 3>&2 2>${log}`,
    'set -e',
    // Binds a directory or a file (a subPath item) at $2, creating its place in the new root.
    `place() { if [ -d "$1" ]; then ${q(t.mkdir)} -p "$2"; else ${q(t.mkdir)} -p "\${2%/*}"; [ -e "$2" ] || : > "$2"; fi; ${q(t.mount)} --rbind "$1" "$2"; }`,
    // A read-only remount must repeat the flags the host's mount is locked with (nosuid, nodev ...).
    `remount_ro() { ${q(t.mount)} -o "remount,bind,$(${q(t.findmnt)} -nro VFS-OPTIONS -T "$1"),ro" "$1"; }`,
  ];
  if (rebuilt) lines.push(`R=${q(join(scratch, 'root'))}`, `${q(t.mount)} -t tmpfs -o mode=0755 longshore-root "$R"`);
  for (const s of plan.steps) {
    if (s.op === 'dir') lines.push(`${q(t.mkdir)} -p ${at(s.path)}`);
    else if (s.op === 'symlink') lines.push(`${q(t.ln)} -s ${q(s.target)} ${at(s.path)}`);
    else if (s.op === 'host') lines.push(`place ${q(s.path)} ${at(s.path)}`);
    else lines.push(`place ${q(s.source)} ${at(s.path)}`, ...(s.readOnly ? [`remount_ro ${at(s.path)}`] : []));
  }
  // The bind of the host directory that holds the scratch directory copied the new root into
  // itself; detached, the container sees an empty directory there.
  if (rebuilt) lines.push(`! ${q(t.mountpoint)} -q "$R$R" || ${q(t.umount)} -l "$R$R"`);
  lines.push(`echo ${q(SETUP_DONE)} >&2`, 'exec 2>&3 3>&-');
  // --pdeathsig: the container dies with the node process, as bwrap's --die-with-parent does.
  if (rebuilt)
    lines.push(
      `exec ${q(t.setpriv)} --pdeathsig KILL -- ${q(t.chroot)} "$R" /bin/sh -c 'cd "$0" && exec "$@"' ${q(plan.cwd)} "$@"`,
    );
  else lines.push(`cd ${q(plan.cwd)}`, `exec ${q(t.setpriv)} --pdeathsig KILL -- "$@"`);
  return lines.join('\n');
}

export function unshareRuntime(tools: UnshareTools): ContainerRuntime {
  return {
    kind: 'unshare',
    isolate(r) {
      const scratch = mkdtempSync(join(tmpdir(), 'longshore-container-'));
      mkdirSync(join(scratch, 'root'));
      writeFileSync(join(scratch, 'setup.log'), NOT_STARTED);
      const script = unshareScript(planMounts(realHostFs, r.mounts, r.dirs, r.workingDir), tools, scratch);
      return {
        argv: [tools.unshare, '--user', '--map-root-user', '--mount', '--', '/bin/sh', '-c', script, 'sh', ...r.argv],
        supervised: false,
        setUp() {
          try {
            return readFileSync(join(scratch, 'setup.log'), 'utf8').trimEnd().endsWith(SETUP_DONE);
          } catch {
            return false;
          }
        },
        setupFailure() {
          const lines = readFileSync(join(scratch, 'setup.log'), 'utf8').trim().split('\n');
          if (lines.at(-1) === SETUP_DONE) return undefined;
          const text = lines.slice(-3).join(' ').replace(/\s+/g, ' ');
          return `the container's mounts could not be set up with unshare: ${text || 'the prelude failed'}; ${INSTALL_HINT}`;
        },
        // Only the namespace saw the tmpfs on the scratch root: on the host it is an empty directory.
        cleanup: () => rmSync(scratch, { recursive: true, force: true }),
      };
    },
  };
}

/** The tools found and one namespace made that can mount, or why not. */
export function probeUnshare(): { tools: UnshareTools } | { failure: string } {
  const names = ['unshare', 'setpriv', 'chroot', 'mount', 'umount', 'findmnt', 'mountpoint', 'mkdir', 'ln'] as const;
  const found = Object.fromEntries(names.map((n) => [n, findExecutable(n)]));
  const missing = names.filter((n) => !found[n]);
  if (missing.length) return { failure: `${missing.join(', ')} not found (util-linux and coreutils provide them)` };
  const tools = found as unknown as UnshareTools;
  const failure = tryCommand([
    tools.unshare,
    '--user',
    '--map-root-user',
    '--mount',
    '--',
    tools.mount,
    '-t',
    'tmpfs',
    'longshore-probe',
    tmpdir(),
  ]);
  return failure ? { failure } : { tools };
}

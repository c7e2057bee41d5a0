// The file layout a container sees, as a list of steps any container runtime can carry out:
// its volumes at their mount paths and its working directory, with nothing created on the
// host. The host's root is kept as is, except that directories on the way to a path that does
// not exist on the host are rebuilt in a tmpfs root from binds of their children: otherwise
// the runtime would create the missing directories (e.g. /var/run/secrets/...) on the host.
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface HostFs {
  exists(p: string): boolean;
  realpath(p: string): string;
  children(dir: string): { name: string; symlinkTo?: string }[];
}

export const realHostFs: HostFs = {
  exists: (p) => existsSync(p),
  realpath: (p) => realpathSync(p),
  children: (dir) =>
    readdirSync(dir).map((name) => {
      const p = join(dir, name);
      try {
        return lstatSync(p).isSymbolicLink() ? { name, symlinkTo: readlinkSync(p) } : { name };
      } catch {
        return { name };
      }
    }),
};

export type MountStep =
  /** An empty directory of the rebuilt root. */
  | { op: 'dir'; path: string }
  | { op: 'symlink'; path: string; target: string }
  /** The host's own path at the same place, with every mount under it (/proc, /dev ...). */
  | { op: 'host'; path: string }
  | { op: 'bind'; path: string; source: string; readOnly: boolean };

export interface MountPlan {
  /** 'host': the host's root with the binds placed over existing paths; 'rebuilt': a tmpfs root made by the steps. */
  root: 'host' | 'rebuilt';
  steps: MountStep[];
  cwd: string;
}

/** `p` with its longest existing prefix resolved through symlinks (/var/run/x -> /run/x). */
export function resolveOnHost(fs: HostFs, p: string): { path: string; missingFrom?: string } {
  const parts = posix.normalize(p).split('/').filter(Boolean);
  for (let i = parts.length; i >= 0; i--) {
    const prefix = '/' + parts.slice(0, i).join('/');
    if (fs.exists(prefix)) {
      const real = fs.realpath(prefix);
      const rest = parts.slice(i);
      return rest.length ? { path: posix.join(real, ...rest), missingFrom: real } : { path: real };
    }
  }
  return { path: p, missingFrom: '/' };
}

/** The steps: the root (rebuilt where needed), the mounts (parents first), then new directories. */
export function planMounts(fs: HostFs, mounts: readonly Mount[], dirs: readonly string[], cwd: string): MountPlan {
  const resolvedMounts = mounts.map((m) => ({ ...m, at: resolveOnHost(fs, m.target) }));
  const resolvedDirs = dirs.map((d) => resolveOnHost(fs, d));
  const expand = new Set<string>();
  for (const r of [...resolvedMounts.map((m) => m.at), ...resolvedDirs]) {
    if (r.missingFrom === undefined) continue;
    for (let d = r.missingFrom; ; d = dirname(d)) {
      expand.add(d);
      if (d === '/') break;
    }
  }
  // A volume whose source lies under another volume's target (the node keeps volumes under
  // /tmp; a pod mounts an emptyDir on /tmp) would be hidden by it when binds are made in place,
  // one after the other: in a rebuilt root every bind lands in the new root, and every source
  // stays where it is.
  const under = (p: string, dir: string): boolean => p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
  if (resolvedMounts.some((m) => resolvedMounts.some((o) => o !== m && under(m.source, o.at.path)))) expand.add('/');
  const steps: MountStep[] = [];
  const walk = (dir: string): void => {
    for (const c of fs.children(dir)) {
      const path = posix.join(dir, c.name);
      if (expand.has(path)) {
        steps.push({ op: 'dir', path });
        walk(path);
      } else if (c.symlinkTo !== undefined) steps.push({ op: 'symlink', path, target: c.symlinkTo });
      else steps.push({ op: 'host', path });
    }
  };
  if (expand.size) walk('/');
  const ordered = [...resolvedMounts].sort((a, b) => a.at.path.split('/').length - b.at.path.split('/').length);
  for (const m of ordered) steps.push({ op: 'bind', path: m.at.path, source: m.source, readOnly: m.readOnly });
  // After the mounts, as a container runtime makes the working directory: inside a volume
  // mounted over its parent, it must be made in the volume, not hidden under it.
  for (const d of resolvedDirs) steps.push({ op: 'dir', path: d.path });
  return { root: expand.size ? 'rebuilt' : 'host', steps, cwd };
}

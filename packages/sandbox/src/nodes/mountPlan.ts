// The bwrap arguments that give a container its volumes at their mount paths. The host's root
// is bound as is, except that directories on the way to a mount path that does not exist on
// the host are rebuilt in bwrap's tmpfs root from binds of their children: otherwise bwrap
// would create the missing directories (e.g. /var/run/secrets/...) on the host itself.
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

export interface Mount { source: string; target: string; readOnly: boolean }

export interface HostFs {
  exists(p: string): boolean;
  realpath(p: string): string;
  children(dir: string): { name: string; symlinkTo?: string }[];
}

export const realHostFs: HostFs = {
  exists: (p) => existsSync(p),
  realpath: (p) => realpathSync(p),
  children: (dir) => readdirSync(dir).map((name) => {
    const p = join(dir, name);
    try {
      return lstatSync(p).isSymbolicLink() ? { name, symlinkTo: readlinkSync(p) } : { name };
    } catch { return { name }; }
  }),
};

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

/** bwrap arguments: the root (expanded where needed), the mounts (parents first), new dirs, cwd. */
export function bwrapArgs(fs: HostFs, mounts: readonly Mount[], dirs: readonly string[], cwd: string | undefined): string[] {
  const resolvedMounts = mounts.map((m) => ({ ...m, at: resolveOnHost(fs, m.target) }));
  const resolvedDirs = dirs.map((d) => resolveOnHost(fs, d));
  const expand = new Set<string>();
  for (const r of [...resolvedMounts.map((m) => m.at), ...resolvedDirs]) {
    if (r.missingFrom === undefined) continue;
    for (let d = r.missingFrom; ; d = dirname(d)) { expand.add(d); if (d === '/') break; }
  }
  const args: string[] = ['--die-with-parent'];
  if (!expand.size) args.push('--dev-bind', '/', '/');
  else {
    const walk = (dir: string): void => {
      for (const c of fs.children(dir)) {
        const p = posix.join(dir, c.name);
        if (expand.has(p)) { args.push('--dir', p); walk(p); } else if (c.symlinkTo !== undefined) args.push('--symlink', c.symlinkTo, p);
        else args.push('--dev-bind', p, p);
      }
    };
    walk('/');
  }
  for (const d of resolvedDirs) args.push('--dir', d.path);
  const ordered = [...resolvedMounts].sort((a, b) => a.at.path.split('/').length - b.at.path.split('/').length);
  for (const m of ordered) args.push(m.readOnly ? '--ro-bind' : '--bind', m.source, m.at.path);
  if (cwd) args.push('--chdir', cwd);
  return args;
}

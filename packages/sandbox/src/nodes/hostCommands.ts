// Finding and trying the host's commands a container runtime is built on.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter))
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  for (const dir of ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin'])
    if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** Runs a short command; undefined when it succeeded, else what went wrong (its stderr). */
export function tryCommand(argv: readonly string[], timeoutMs = 5_000): string | undefined {
  const [file, ...args] = argv as [string, ...string[]];
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status === 0) return undefined;
  const why = r.error?.message ?? (r.stderr.trim().split('\n').pop() || `exit code ${r.status ?? r.signal ?? '?'}`);
  return `\`${argv.slice(0, 2).join(' ')} ...\` failed: ${why}`;
}

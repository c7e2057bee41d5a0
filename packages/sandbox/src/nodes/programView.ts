// An image's PATH, for images that run the host's programs: a directory of links to every program
// on the host's PATH except those the image does not have. Without it a pod of
// longshore/worker-tools or busybox would find the host's docker, and with it the host's daemon —
// which no script pod on a real cluster has, so a script calling docker must fail as it would
// there ("docker: not found"). Made once when the cluster starts: programs installed later are
// not in it.
import { mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Container engines' clients and daemons: none of the table's images has one. */
export const CONTAINER_ENGINES = ['docker', 'dockerd', 'docker-compose', 'podman', 'nerdctl'];

function isProgram(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Fills `dir` with links to the programs of `hostPath` (the first of a name wins, as a shell
 *  finds it) except `without`, and returns `dir`, the PATH to give the image. */
export function programView(dir: string, hostPath: string, without: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  const taken = new Set(without);
  for (const d of hostPath.split(delimiter)) {
    if (!d || !isAbsolute(d)) continue;
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const name of names) {
      if (taken.has(name) || !isProgram(join(d, name))) continue;
      taken.add(name);
      symlinkSync(join(d, name), join(dir, name));
    }
  }
  return dir;
}

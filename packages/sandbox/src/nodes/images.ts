// Images map to local commands through a table, because the sandbox has no container runtime:
// an image's ENTRYPOINT/CMD become a host command prefix. An image not in the table fails as a
// pull from a registry that does not have it would (ErrImagePull), so misspelt images surface
// exactly as on a real cluster.
import { existsSync } from 'node:fs';
import { LongshoreError } from '@longshore/protocol';
import { dirname, join, posix, relative } from 'node:path';
import type { Mount } from './mountPlan.js';
import { NGINX_STAND_IN } from './nginxStandIn.js';

export interface ImageEntry {
  /** The image's ENTRYPOINT (replaced by a container's `command`). */
  entrypoint: string[];
  /** The image's CMD (replaced by a container's `args`). */
  cmd: string[];
  /** The image's WORKDIR (replaced by a container's `workingDir`); `/` where unset, as for an image without one. */
  workingDir?: string;
  /**
   * Programs on the image's PATH that the host may lack, as host argv prefixes: a container whose
   * command starts with one of these names runs the prefix instead (`longshore` in the worker image).
   */
  programs?: Record<string, string[]>;
  /**
   * The image's own files, as a real image carries them in its layers: host directories bound
   * read-only into each of its containers, so a pod's volumes (an emptyDir on /tmp) cannot hide them.
   */
  files?: Mount[];
  /** The image's ENV (its PATH above all): under what the pod spec sets, over the host's. */
  env?: Record<string, string>;
  /**
   * The host directory of the image's programs (programView.ts), its PATH. It lives under the
   * host's temporary directory, which a pod's emptyDir on /tmp would hide, so a container runtime
   * binds it at IMAGE_PROGRAMS_DIR instead.
   */
  programsDir?: string;
}

/** Where a container finds its image's programs when the node can bind them: at the top of its
 *  root, as no volume is mounted there. Under /opt it could not be bound where a pod mounts a
 *  read-only volume on /opt (kubernetes-client/python's port-forward test does). */
export const IMAGE_PROGRAMS_DIR = '/.longshore-sandbox/bin';

export type ImageTable = Record<string, ImageEntry>;

const SHELL: ImageEntry = { entrypoint: [], cmd: ['sh'] };

/** The default table: the CLI build for longshore/worker and longshore/server; the host's shell for the tools
 *  image and the common base images, so ordinary `kubectl run --image=busybox -- sh -c ...` works.
 *  `path`: the PATH these images get (programView.ts: the host's programs without docker). */
export function defaultImageTable(workerEntry: string, path?: string): ImageTable {
  const root = packageRoot(workerEntry);
  const longshore = [process.execPath, posix.join(WORKER_IMAGE_ROOT, relative(root, workerEntry))];
  const env = path === undefined ? {} : { env: { PATH: path }, programsDir: path };
  const shell: ImageEntry = { ...SHELL, ...env };
  const cli: ImageEntry = {
    entrypoint: longshore,
    cmd: [],
    workingDir: WORKER_IMAGE_ROOT,
    programs: { longshore },
    files: [{ source: root, target: WORKER_IMAGE_ROOT, readOnly: true }],
    ...env,
  };
  return {
    'longshore/worker': cli,
    // docker/server/Dockerfile builds the same CLI as docker/worker's; the chart passes `server` as args.
    'longshore/server': cli,
    'longshore/worker-tools': shell,
    // The official image's `python` (and its CMD, python3) is the host's python3, found on the PATH.
    python: { ...shell, cmd: ['python3'], programs: { python: ['python3'] } },
    // Its `nginx` is a stand-in serving the default page on port 80 (nginxStandIn.ts).
    nginx: {
      ...shell,
      cmd: ['nginx', '-g', 'daemon off;'],
      programs: { nginx: [process.execPath, '-e', NGINX_STAND_IN, '--'] },
    },
    busybox: shell,
    alpine: shell,
    debian: shell,
    ubuntu: shell,
  };
}

/** Where the worker image has the CLI and its node_modules (docker/worker/Dockerfile puts it in /app; any fixed path does here). */
const WORKER_IMAGE_ROOT = '/opt/longshore';

/** The nearest directory above `file` with a node_modules: what the CLI needs to run. */
function packageRoot(file: string): string {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return dir;
    if (dirname(dir) === dir) return dirname(file);
  }
}

/** "docker.io/library/busybox:1.36@sha256:..." -> "busybox"; "ghcr.io/x/y:1" -> "ghcr.io/x/y". */
export function imageRepository(image: string): string {
  let ref = image.split('@')[0] ?? image;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  for (const prefix of ['docker.io/library/', 'index.docker.io/library/', 'docker.io/', 'library/']) {
    if (ref.startsWith(prefix)) {
      ref = ref.slice(prefix.length);
      break;
    }
  }
  return ref;
}

/** The fully qualified name a runtime would report ("docker.io/library/busybox:latest"). */
export function qualifiedImage(image: string): string {
  const repo = imageRepository(image);
  const tagMatch = /:([^/:@]+)(@.*)?$/.exec(image);
  const tag = tagMatch?.[1] ?? 'latest';
  const host =
    repo.includes('/') && /[.:]/.test(repo.split('/')[0]!)
      ? ''
      : repo.includes('/')
        ? 'docker.io/'
        : 'docker.io/library/';
  return `${host}${repo}:${tag}`;
}

/** One tag's own entry ("longshore/worker:0.2.0") first, then the repository's, then the name as written. */
export function lookupImage(table: ImageTable, image: string): ImageEntry | undefined {
  const repository = imageRepository(image);
  const tag = /:([^/:@]+)(@.*)?$/.exec(image)?.[1];
  return (tag === undefined ? undefined : table[`${repository}:${tag}`]) ?? table[repository] ?? table[image];
}

/** How a configured image is written: its own command and ENV, or those of the image it is built `from`. */
export interface ImageSettingsEntry {
  from?: string | undefined;
  entrypoint?: string[] | undefined;
  cmd?: string[] | undefined;
  workingDir?: string | undefined;
  env?: Record<string, string> | undefined;
}

/** The table with the configured images added, each built on its `from` as a Dockerfile's FROM builds on a base. */
export function withConfiguredImages(table: ImageTable, configured: Record<string, ImageSettingsEntry>): ImageTable {
  const result: ImageTable = { ...table };
  for (const [name, settings] of Object.entries(configured)) {
    const base = settings.from === undefined ? undefined : lookupImage(table, settings.from);
    if (settings.from !== undefined && !base)
      throw new LongshoreError(
        'CONFIG_INVALID',
        `cluster.images["${name}"].from: no image ${settings.from} to build on; it must be one of the table's: ${Object.keys(table).join(', ')}`,
      );
    const env = { ...base?.env, ...settings.env };
    const workingDir = settings.workingDir ?? base?.workingDir;
    result[name] = {
      ...base,
      entrypoint: settings.entrypoint ?? base?.entrypoint ?? [],
      cmd: settings.cmd ?? base?.cmd ?? [],
      ...(workingDir !== undefined ? { workingDir } : {}),
      ...(Object.keys(env).length ? { env } : {}),
    };
  }
  return result;
}

/** $(VAR) expansion as the kubelet does for command, args and env values; $$(VAR) escapes. */
export function expandVars(s: string, env: ReadonlyMap<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && env.has(name) ? env.get(name)! : m;
  });
}

/** Where a container starts: its workingDir, else its image's WORKDIR, else `/` (never the node's own directory). */
export function containerWorkingDir(entry: ImageEntry, workingDir: string | undefined): string {
  return workingDir || entry.workingDir || '/';
}

/** argv for a container: command replaces ENTRYPOINT, args replace CMD (Docker's rules). */
export function containerArgv(
  entry: ImageEntry,
  command: string[] | undefined,
  args: string[] | undefined,
  env: ReadonlyMap<string, string>,
): string[] {
  const argv = command?.length
    ? [...command, ...(args ?? [])]
    : [...entry.entrypoint, ...(args?.length ? args : entry.cmd)];
  const name = argv[0];
  const program =
    name !== undefined && entry.programs && Object.hasOwn(entry.programs, name) ? entry.programs[name] : undefined;
  return [...(program ?? argv.slice(0, 1)), ...argv.slice(1)].map((a) => expandVars(a, env));
}

// What a container sees of the files around it: its volume mounts, the image's files and
// programs, and the namespace's hosts file.
import { join } from 'node:path';
import type { ContainerRuntime } from './containerRuntime.js';
import type { Obj } from './env.js';
import { IMAGE_PROGRAMS_DIR, type ImageEntry } from './images.js';
import type { Mount } from './mountPlan.js';

export interface ContainerMountParts {
  container: Obj;
  /** The pod's staged volumes: name → directory on the host. */
  volumes: ReadonlyMap<string, string>;
  entry: ImageEntry;
  runtime: ContainerRuntime;
  hostNetwork: boolean;
  /** The namespace's hosts file, where its Services' names resolve. */
  hostsFile: string;
}

/**
 * The container's mounts, and whether the image's programs are bound at IMAGE_PROGRAMS_DIR. On a
 * node without a container runtime the container runs on the host, finds the programs where
 * they are and keeps the host's hosts file, so a container that needs no mounts stays runnable
 * there; a hostNetwork pod keeps the host's hosts file, as on a real node.
 */
export function containerMounts(parts: ContainerMountParts): { mounts: Mount[]; programsBound: boolean } {
  const { container, volumes, entry, runtime } = parts;
  const isolated = runtime.kind !== 'none';
  const programs =
    isolated && entry.programsDir !== undefined
      ? [{ source: entry.programsDir, target: IMAGE_PROGRAMS_DIR, readOnly: true }]
      : [];
  const hosts =
    isolated && !parts.hostNetwork ? [{ source: parts.hostsFile, target: '/etc/hosts', readOnly: true }] : [];
  const fromVolumes = ((container.volumeMounts ?? []) as Obj[]).flatMap((m) => {
    const src = volumes.get(String(m.name));
    if (!src) return [];
    return [
      {
        source: m.subPath ? join(src, String(m.subPath)) : src,
        target: String(m.mountPath),
        readOnly: m.readOnly === true,
      },
    ];
  });
  return {
    mounts: [...fromVolumes, ...(entry.files ?? []), ...programs, ...hosts],
    programsBound: programs.length > 0,
  };
}

// How a virtual node gives a container its own file layout (volumes at their mount paths, a
// working directory that does not exist on the host) without a container engine: bubblewrap
// where it is installed and works, else util-linux's unshare with a user and a mount namespace,
// which a fresh Debian or Ubuntu has. Where neither works, the node still runs containers that
// need no mounts, and fails the others at start with what to install, rather than hanging them.
import type { Mount } from './mountPlan.js';

export type ContainerRuntimeKind = 'bubblewrap' | 'unshare' | 'none';
export type ContainerRuntimePreference = 'auto' | 'bubblewrap' | 'unshare';

export interface IsolationRequest {
  argv: string[];
  mounts: readonly Mount[];
  workingDir: string;
  /** Directories to create for the container (its working directory when the host lacks it). */
  dirs: readonly string[];
}

export interface IsolatedCommand {
  argv: string[];
  /** argv[0] is a supervisor that dies at once of a catchable signal (bwrap): those go to the
   *  container's own processes instead, and the supervisor exits when they do. */
  supervised: boolean;
  /** Whether the command runs in its isolation now, its mounts made (`pid`: the process started);
   *  absent where that is so as soon as the process exists. */
  setUp?(pid: number): boolean;
  /** After the process has exited: why the runtime could not start the container, if it could not. */
  setupFailure(): string | undefined;
  cleanup(): void;
}

export interface ContainerRuntime {
  readonly kind: ContainerRuntimeKind;
  /** Why no runtime works here, or why the preferred one was not taken. */
  readonly reason?: string;
  /** Throws ContainerRuntimeUnavailable where no runtime works. */
  isolate(request: IsolationRequest): IsolatedCommand;
}

export class ContainerRuntimeUnavailable extends Error {
  override readonly name = 'ContainerRuntimeUnavailable';
  readonly code = 'ContainerRuntimeUnavailable';
}

/** What to do on a host where no runtime works, for every message that says so. */
export const INSTALL_HINT =
  'install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`), or allow unprivileged user namespaces (`sysctl kernel.unprivileged_userns_clone=1`; on Ubuntu also `sysctl kernel.apparmor_restrict_unprivileged_userns=0`)';

export function unavailableRuntime(reason: string): ContainerRuntime {
  return {
    kind: 'none',
    reason,
    isolate() {
      throw new ContainerRuntimeUnavailable(
        `this node cannot give a container its volume mounts or working directory: ${reason}`,
      );
    },
  };
}

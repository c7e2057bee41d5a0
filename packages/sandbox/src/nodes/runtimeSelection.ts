// Which container runtime a node uses, decided once when the cluster starts by trying each on
// this host: installed is not enough (bwrap without user namespaces, unshare where AppArmor
// forbids them to mount), so each candidate is run once.
import { bubblewrapRuntime, probeBubblewrap } from './bubblewrapRuntime.js';
import {
  INSTALL_HINT,
  unavailableRuntime,
  type ContainerRuntime,
  type ContainerRuntimePreference,
} from './containerRuntime.js';
import { probeUnshare, unshareRuntime } from './unshareRuntime.js';

/** Each candidate answers its runtime when it works on this host, else why it does not. */
export interface RuntimeCandidates {
  bubblewrap(): ContainerRuntime | string;
  unshare(): ContainerRuntime | string;
}

export const HOST_CANDIDATES: RuntimeCandidates = {
  bubblewrap: () => {
    const probe = probeBubblewrap();
    return 'failure' in probe ? probe.failure : bubblewrapRuntime(probe.path);
  },
  unshare: () => {
    const probe = probeUnshare();
    return 'failure' in probe ? probe.failure : unshareRuntime(probe.tools);
  },
};

/** The preferred runtime when it works, else the first that does (saying why the preferred one was not taken). */
export function selectContainerRuntime(
  preference: ContainerRuntimePreference,
  candidates: RuntimeCandidates = HOST_CANDIDATES,
): ContainerRuntime {
  const order: ('bubblewrap' | 'unshare')[] =
    preference === 'unshare' ? ['unshare', 'bubblewrap'] : ['bubblewrap', 'unshare'];
  const failures: string[] = [];
  for (const kind of order) {
    const found = candidates[kind]();
    if (typeof found !== 'string') {
      return preference !== 'auto' && kind !== preference
        ? { ...found, reason: `${preference} was asked for but does not work here: ${failures.join('; ')}` }
        : found;
    }
    failures.push(found);
  }
  return unavailableRuntime(`${failures.join('; ')}; ${INSTALL_HINT}`);
}

import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { SCRIPT_CONTAINER } from './kubeNames.js';
import type { ContainerState } from './podLogReader.js';

/** What a script pod's status says about its script container, read the same way everywhere. */

function scriptStatus(pod: V1Pod | undefined): V1ContainerStatus | undefined {
  return pod?.status?.containerStatuses?.find((c) => c.name === SCRIPT_CONTAINER);
}

export function started(pod: V1Pod): boolean {
  const state = scriptStatus(pod)?.state;
  return !!(state?.running || state?.terminated) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** When the script container began (epoch ms), as the kubelet recorded it; undefined before. */
export function scriptStartTime(pod: V1Pod): number | undefined {
  const state = scriptStatus(pod)?.state;
  const at = state?.running?.startedAt ?? state?.terminated?.startedAt;
  return at ? new Date(at).getTime() : undefined;
}

export function scriptContainerState(pod: V1Pod | undefined): ContainerState {
  const state = scriptStatus(pod)?.state;
  if (state?.terminated || pod?.status?.phase === 'Succeeded' || pod?.status?.phase === 'Failed') return 'terminated';
  return state?.running ? 'running' : 'waiting';
}

/** Why a pod ended without the bootstrap's end marker, in the kubelet's words. */
export function terminationMessage(pod: V1Pod | undefined): string {
  const terminated = scriptStatus(pod)?.state?.terminated;
  if (pod?.status?.reason === 'DeadlineExceeded')
    return 'The script pod reached its activeDeadlineSeconds and was stopped by Kubernetes';
  if (terminated?.reason === 'OOMKilled')
    return `The script was killed for using more memory than its limit (${pod?.spec?.containers[0]?.resources?.limits?.memory ?? 'unknown'}); raise the step's memory limit`;
  const init = pod?.status?.initContainerStatuses?.find(
    (c) => c.state?.terminated && c.state.terminated.exitCode !== 0,
  );
  if (init)
    return `The init container '${init.name}' failed with exit code ${init.state!.terminated!.exitCode}${init.state!.terminated!.message ? `: ${init.state!.terminated!.message}` : ''}`;
  if (terminated?.reason === 'StartError' || terminated?.reason === 'ContainerCannotRun')
    return `The script container could not start (${terminated.reason})${terminated.message ? `: ${terminated.message.trim()}` : ''}`;
  if (terminated)
    return `The script container exited with code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''} without the bootstrap's end marker: the script's result is unknown (see the log)`;
  return `The script pod ended (${pod?.status?.phase ?? 'unknown phase'}${pod?.status?.message ? `: ${pod.status.message}` : ''}) without the bootstrap's end marker`;
}

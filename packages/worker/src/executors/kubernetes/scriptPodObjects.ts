import { isErrorCode } from '@longshore/protocol';
import type { Logger } from 'pino';
import { retryTransient } from '../../retry.js';
import type { KubeApi } from './kubeApi.js';

const API_ATTEMPTS = 4;
/** Pauses of up to 0.5, 1 and 2 s: an API server restart is waited out, a run is not held up for long. */
const API_BACKOFF = { initialMs: 500, maxMs: 2_000 };

/**
 * A call through an API server that may be restarting or overloaded: transient failures are
 * tried again, a few times, while the run goes on; `giveUp` says it no longer does.
 */
export function patiently<T>(call: () => Promise<T>, giveUp: () => boolean): Promise<T> {
  return retryTransient(call, { attempts: API_ATTEMPTS, backoff: API_BACKOFF, giveUp });
}

export interface ScriptObjectCreation<T> {
  giveUp: () => boolean;
  /** Reads the object that is already there; without it, a CONFLICT gives undefined. */
  existing?: () => Promise<T | undefined>;
}

/**
 * Creates the script pod or its Secret: the object, or a message for a `failed` outcome. A
 * CONFLICT is a repeated start of the same operation: the existing object is used.
 */
export async function createScriptObject<T>(
  what: string,
  call: () => Promise<T>,
  { giveUp, existing }: ScriptObjectCreation<T>,
): Promise<T | string | undefined> {
  try {
    return await patiently(call, giveUp);
  } catch (error) {
    if (isErrorCode(error, 'CONFLICT')) return existing ? await existing() : undefined;
    return `The script ${what} could not be created: ${(error as Error).message}`;
  }
}

export interface ScriptObjectRemoval {
  api: Pick<KubeApi, 'deletePod' | 'deleteSecret'>;
  log: Logger;
}

/**
 * Deletes an operation's script pod and workspace Secret; failures are left to the sweeper.
 * A Secret the pod owns goes with the pod (Kubernetes' garbage collector): one request less per operation.
 */
export async function deleteScriptObjects(
  { api, log }: ScriptObjectRemoval,
  names: { pod: string; secret: string },
  grace: number,
  secretOwned: boolean,
): Promise<void> {
  await api
    .deletePod(names.pod, grace)
    .catch((err: unknown) => log.warn({ err, pod: names.pod }, 'cannot delete the script pod; the sweeper will'));
  if (secretOwned) return;
  await api
    .deleteSecret(names.secret)
    .catch((err: unknown) =>
      log.warn({ err, secret: names.secret }, 'cannot delete the workspace Secret; the sweeper will'),
    );
}

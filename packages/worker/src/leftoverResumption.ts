import { isActiveOperationState, isErrorCode, type Operation } from '@longshore/protocol';
import type { Logger } from 'pino';
import type { Executor, ResumePoint } from './executors/executor.js';
import type { RetriedServerCall } from './serverCalls.js';
import type { AgentChannel } from './serverClient.js';

export interface LeftoverResumptionContext {
  executor: Executor;
  channel: Pick<AgentChannel, 'operationState'>;
  log: Logger;
  /** The worker's shutdown: a left-over it cannot remove in time stays for the sweeper. */
  signal: AbortSignal;
  keepTrying: RetriedServerCall;
  /** Takes up an operation the server still expects from this worker, as if a poll had brought it. */
  resume(operation: Operation, resume: ResumePoint, ackedSeq: number): void;
}

/**
 * Before the first poll (which reports what this worker runs, and so decides what the server
 * counts as lost): what an earlier start left behind is either resumed, when the server still
 * expects this worker to run it, or removed.
 */
export async function resumeLeftovers(context: LeftoverResumptionContext): Promise<void> {
  const { executor, channel, log, signal, keepTrying } = context;
  const { leftovers, discard } = executor;
  if (!leftovers || !discard) return;
  const found = await keepTrying('listing what the last run of this worker left behind', (callSignal) =>
    leftovers.call(executor, callSignal),
  );
  for (const id of found) {
    const state = await keepTrying('asking the server about a left-over operation', async (callSignal) => {
      try {
        return await channel.operationState(id, callSignal);
      } catch (error) {
        // Not an id the server could ever have given out (an object someone labelled by hand): nobody expects it.
        if (isErrorCode(error, 'VALIDATION_FAILED') || isErrorCode(error, 'NOT_FOUND')) return undefined;
        throw error;
      }
    });
    if (state?.operation && isActiveOperationState(state.state)) {
      log.info(
        { operationId: id, lastSource: state.lastSource, ackedSeq: state.ackedSeq },
        'resuming an operation left running by the last run of this worker',
      );
      context.resume(state.operation, { lastSource: state.lastSource }, state.ackedSeq);
      if (state.cancelRequested) executor.cancel(id);
    } else {
      log.info(
        { operationId: id, state: state?.state ?? 'unknown' },
        'removing what is left of an operation the server does not expect from this worker',
      );
      await discard
        .call(executor, id, signal)
        .catch((err: unknown) =>
          log.warn({ err, operationId: id }, 'cannot remove a left-over operation; the sweeper will try again'),
        );
    }
  }
}

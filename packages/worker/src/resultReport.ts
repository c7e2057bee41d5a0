import { isErrorCode, type CompleteRequest, type Operation, type OperationResult } from '@longshore/protocol';
import type { Logger } from 'pino';
import type { WorkerMetrics } from './health/workerMetrics.js';
import type { LogShipper } from './logShipper.js';
import type { RetriedServerCall } from './serverCalls.js';
import type { AgentChannel } from './serverClient.js';

const MAX_MESSAGE_LENGTH = 4096;

/** An operation the worker holds, as far as reporting its end goes. */
export interface ReportedOperation {
  readonly operation: Operation;
  readonly shipper: LogShipper;
  /** The server took it back: report nothing. Read again after the log's flush, as a poll may set it meanwhile. */
  readonly forgotten: boolean;
  /** Left running for the worker's successor, which reports it: report nothing. */
  readonly left: boolean;
}

export interface ResultReportContext {
  channel: Pick<AgentChannel, 'complete'>;
  log: Logger;
  metrics: Pick<WorkerMetrics, 'operationFinished'>;
  /** The worker's shutdown: cuts the report short. */
  signal: AbortSignal;
  keepTrying: RetriedServerCall;
}

/**
 * Ships the rest of the operation's log, then its result, retrying until the server has them.
 * True once the server has the result, or no longer wants it; false when shutdown cut the report short.
 */
export async function reportResult(
  held: ReportedOperation,
  result: OperationResult,
  context: ResultReportContext,
): Promise<boolean> {
  const { operation, shipper } = held;
  const { channel, log, signal } = context;
  if (held.forgotten) return true;
  context.metrics.operationFinished(result.outcome);
  log.info({ operationId: operation.id, outcome: result.outcome, exitCode: result.exitCode }, 'operation finished');
  let finalSeq: number;
  let message = result.message;
  try {
    finalSeq = await shipper.flush(signal);
  } catch (error) {
    if (signal.aborted) return false;
    if (held.forgotten || isErrorCode(error, 'OPERATION_NOT_LEASED')) return true;
    finalSeq = shipper.ackedSeq;
    message += ` (the log is incomplete: ${(error as Error).message})`;
  }
  const report: CompleteRequest = { ...result, message: message.slice(0, MAX_MESSAGE_LENGTH), finalSeq };
  await context.keepTrying('reporting the end of an operation', async (callSignal) => {
    try {
      await channel.complete(operation.id, report, callSignal);
    } catch (error) {
      // CONFLICT: an earlier attempt got through and only its answer was lost.
      if (isErrorCode(error, 'CONFLICT')) return;
      if (!isErrorCode(error, 'OPERATION_NOT_LEASED') && !isErrorCode(error, 'NOT_FOUND')) throw error;
      log.warn(
        { operationId: operation.id, err: error },
        'the server no longer holds this operation for this worker; its result is dropped',
      );
    }
  });
  return true;
}

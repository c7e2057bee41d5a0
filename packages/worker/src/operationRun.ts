import type { OperationResult } from '@longshore/protocol';
import type { Executor, ResumePoint } from './executors/executor.js';
import { reportResult, type ReportedOperation, type ResultReportContext } from './resultReport.js';

/** An operation the worker holds, as far as running it to its end goes. */
export interface RunningOperation extends ReportedOperation {
  /** The server has its result, only the release is left. */
  reported: boolean;
  /** Its run is over, its result on the way: a forget crossing the report has nothing to stop. */
  ended: boolean;
}

export interface OperationRunContext extends ResultReportContext {
  executor: Pick<Executor, 'start' | 'release'>;
}

/**
 * Runs the operation with the executor, reports its result, then releases what it left behind.
 * An executor that throws gives a `failed` result, so the server always hears of the end.
 */
export async function runOperation(
  held: RunningOperation,
  resume: ResumePoint | undefined,
  context: OperationRunContext,
): Promise<void> {
  const { operation, shipper } = held;
  const { executor, log } = context;
  let result: OperationResult;
  try {
    result = await executor.start(operation, shipper, resume);
  } catch (error) {
    log.error({ err: error, operationId: operation.id }, 'the executor failed');
    result = {
      outcome: 'failed',
      message: `The worker could not run the operation: ${(error as Error).message}`,
      outputVariables: [],
    };
  }
  held.ended = true;
  if (held.left) return;
  // What the operation leaves behind goes only once the server has its result (or wants none):
  // a worker stopped before that finds it again on its next start and reports then.
  const reported = await reportResult(held, result, context);
  if (!reported) return;
  held.reported = true;
  await executor.release?.(operation.id);
}

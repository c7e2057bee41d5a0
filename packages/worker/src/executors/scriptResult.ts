import type { Operation, OperationResult, OutputVariable } from '@longshore/protocol';

/** Why an executor ended a script before it finished. */
export type StopReason = 'cancelled' | 'timed_out';

export interface ScriptEnd {
  /** Set when the executor stopped the script: that is the outcome, whatever the exit code. */
  stopped?: StopReason | undefined;
  /** From the bootstrap's end-of-output marker; undefined when the output ended without one. */
  exitCode?: number | undefined;
  /** Neither stopped nor an exit code: what the executor knows of why (a killed process, a vanished pod). */
  unexplained: () => Pick<OperationResult, 'outcome' | 'message'>;
}

/**
 * The outcome of a script, the same on every executor: a stop decides first (a cancelled script
 * that still wrote exit 0 was cancelled), then the exit code, then the executor's explanation.
 */
export function scriptResult(operation: Operation, end: ScriptEnd, outputVariables: OutputVariable[]): OperationResult {
  if (end.stopped) return stoppedResult(operation, end.stopped, outputVariables);
  if (end.exitCode === 0)
    return { outcome: 'succeeded', exitCode: 0, message: 'The script succeeded', outputVariables };
  if (end.exitCode !== undefined) {
    return {
      outcome: 'failed',
      exitCode: end.exitCode,
      message: `The script exited with code ${end.exitCode}`,
      outputVariables,
    };
  }
  return { ...end.unexplained(), outputVariables };
}

/** The task-log line when an executor stops a script; `action` is how this executor stops it. */
export function stopNotice(operation: Operation, why: StopReason, action: string): string {
  return why === 'cancelled'
    ? `The operation was cancelled; ${action}`
    : `The operation reached its timeout of ${operation.timeoutSeconds} seconds; ${action}`;
}

/** The outcome of a script the executor stopped, also before it started. */
export function stoppedResult(
  operation: Operation,
  stopped: StopReason,
  outputVariables: OutputVariable[] = [],
): OperationResult {
  return stopped === 'cancelled'
    ? { outcome: 'cancelled', message: 'The operation was cancelled', outputVariables }
    : {
        outcome: 'timed_out',
        message: `The operation did not finish within its timeout of ${operation.timeoutSeconds} seconds`,
        outputVariables,
      };
}

import type { OperationResult } from '@longshore/protocol';
import type { CreatedTask } from './taskCreation.js';

/** What requests do to tasks: the task runner's side that routes reach. */
export interface TaskControl {
  /** Starts a task just created (see taskCreation.ts), from what was written. */
  start(task: CreatedTask): Promise<void>;
  cancel(taskId: string): Promise<void>;
  /** Records a worker's result for an operation it holds, then moves the task on. */
  completeOperation(operationId: string, result: OperationResult): Promise<void>;
}

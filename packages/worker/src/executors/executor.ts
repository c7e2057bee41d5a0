import type { ExecutorKind, HealthCheckResult, LogStream, Operation, OperationResult } from '@longshore/protocol';
import type { LogLevel } from '../bootstrapOutput.js';

/**
 * Where an executor reports a running operation. The worker connects it to the operation's
 * LogShipper, which numbers and ships the lines.
 */
export interface OperationSink {
  line(stream: LogStream, text: string, ts: number, source?: number, level?: LogLevel): void;
  progress(percentage: number, message: string): void;
  /** The script itself began: what came before was waiting (for a slot, a node, an image), shown apart in the task's timeline. */
  scriptStarted(ts: number): void;
  /** The pod the script runs in (Kubernetes), shown with the operation. */
  scriptPod(name: string): void;
  /** A promise while the sink is full: stop reading the script's output until it settles. */
  backpressure(): Promise<void> | undefined;
}

/**
 * Runs operations: the local executor as child processes, the Kubernetes executor as script
 * pods. A run goes through preparing (workspace, packages), running (process or pod) and
 * cleaning up (working directory, or pod and Secret); `start` resolves once all of that is over.
 * A failing script, a timeout, a cancel or a rejection are results, not errors: start rejects
 * only when the executor itself is broken.
 */
export interface Executor {
  readonly kind: ExecutorKind;
  /** With `resume`, the operation was left running by an earlier start of this worker (see leftovers): finish it, never run it again. */
  start(operation: Operation, sink: OperationSink, resume?: ResumePoint): Promise<OperationResult>;
  /** Stops an operation; its start() then resolves with outcome `cancelled`. Unknown ids are ignored. */
  cancel(operationId: string): void;
  /** How many more operations it takes now, when it has limits of its own (pods waiting for nodes). */
  capacity?(): number;
  /** Called whenever capacity() may have grown. */
  onCapacityChange?(listener: () => void): void;
  /**
   * After a restart: the operations an earlier start of this worker left behind (script pods
   * and their Secrets outlive the worker process). The worker resumes those the server still
   * expects it to run and discards the others.
   */
  leftovers?(signal: AbortSignal): Promise<string[]>;
  /**
   * First thing at start, before registering: ends what an earlier start of this worker left
   * running and cannot resume (the local executor's scripts, when their worker was killed).
   */
  endLeftovers?(): Promise<void>;
  /** After start() resolved and its result is reported: removes what the operation leaves behind (script pod, Secret). */
  release?(operationId: string): Promise<void>;
  /**
   * The worker stops without ending this operation (its own upgrade, which replaces it): stop
   * following it, leave it running, and let start() resolve; its result is not reported. The
   * worker's next start finds it among the leftovers and resumes it. False when it cannot be
   * left (nothing runs yet that a successor could resume): the worker then ends it as any other.
   */
  leave?(operationId: string): boolean;
  /** Removes what is left of an operation nobody will finish. */
  discard?(operationId: string, signal: AbortSignal): Promise<void>;
  /** Ends what it keeps between operations (watches, a sweeper): the last call, once every operation ended. */
  close?(): Promise<void>;
  /**
   * What a health check looks at beyond what every worker checks (channel, version, disk,
   * memory): for the Kubernetes executor the API server, its permissions, a check pod, pending
   * script pods, capacity. `facts` join the report's.
   */
  health?(signal: AbortSignal): Promise<{ checks: HealthCheckResult[]; facts: Record<string, string> }>;
}

/** Where a resumed operation's output continues: the server already stored the script's lines up to lastSource. */
export interface ResumePoint {
  lastSource: number;
}

/**
 * Why an operation needs Docker, which no Longshore executor has (the Kubernetes worker runs
 * images as pods but builds and pulls nothing itself); undefined when it does not.
 */
export function dockerRejection(operation: Operation): string | undefined {
  if (operation.container?.dockerfile !== undefined) {
    return (
      'This step builds its execution container from an inline Dockerfile, which needs Docker, and Longshore workers have none. ' +
      'Build the image in your CI, push it to a registry and set it as the execution container image.'
    );
  }
  const image = operation.packages.find((p) => p.format === 'docker-image');
  if (image) {
    return (
      `Package '${image.reference}' is a Docker image, which needs Docker, and Longshore workers have none. ` +
      'Use the image as the execution container, or fetch it from the script with a tool that needs no daemon (crane, skopeo).'
    );
  }
  return undefined;
}

export function rejected(message: string): OperationResult {
  return { outcome: 'rejected', message, outputVariables: [] };
}

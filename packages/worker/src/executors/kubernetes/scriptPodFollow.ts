import type { V1Pod } from '@kubernetes/client-node';
import type { Operation, OperationResult, OutputVariable } from '@longshore/protocol';
import type { Logger } from 'pino';
import { BootstrapOutput } from '../../bootstrapOutput.js';
import { operationSecrets } from '../../workspace.js';
import type { OperationSink, ResumePoint } from '../executor.js';
import { scriptResult, type StopReason } from '../scriptResult.js';
import type { KubeApi } from './kubeApi.js';
import { SCRIPT_CONTAINER } from './kubeNames.js';
import { PodLogReader, type LogReadEnd } from './podLogReader.js';
import { scriptContainerState, terminationMessage } from './scriptPodStatus.js';

/** Shells say it one of these ways when a script calls docker in an image without it. */
const DOCKER_NOT_FOUND =
  /docker: (command )?not found|docker: No such file or directory|exec: "?docker"?: executable file not found/;

/**
 * A run whose script container has started. Read live while its log is read: the pod watch
 * updates `pod` and `gone`, a cancel or timeout sets `stopped`.
 */
export interface FollowedRun {
  readonly operation: Operation;
  readonly sink: OperationSink;
  readonly podName: string;
  readonly abort: Pick<AbortController, 'signal'>;
  /** Resumed after a worker restart: the server has the script's lines up to here. */
  readonly resume?: ResumePoint;
  readonly pod?: V1Pod;
  readonly gone: boolean;
  readonly stopped?: StopReason;
}

export interface ScriptPodFollowContext {
  api: Pick<KubeApi, 'streamPodLog'>;
  log: Logger;
}

/**
 * Reads the script container's log into the task log until the bootstrap's end marker, the
 * container's end or the pod's disappearance, and turns what it saw into the operation's result.
 */
export async function followScriptPod(run: FollowedRun, context: ScriptPodFollowContext): Promise<OperationResult> {
  const variables = new Map<string, OutputVariable>();
  let hinted = false;
  const output = new BootstrapOutput(
    {
      line: (stream, text, ts, source, level) => {
        run.sink.line(stream, text, ts, source, level);
        if (!hinted && stream !== 'system' && DOCKER_NOT_FOUND.test(text)) {
          hinted = true;
          run.sink.line(
            'system',
            "Hint: this script calls docker, and the Kubernetes worker has no Docker (a cluster has no daemon to give a script pod). Build images in your CI and set the step's execution container image, or use a daemonless tool (kaniko, buildah, crane) in that image.",
            ts,
            undefined,
            'warning',
          );
        }
      },
      progress: (percentage, message) => run.sink.progress(percentage, message),
      outputVariable: (variable) => variables.set(variable.name, variable),
      end: () => {},
    },
    { secrets: operationSecrets(run.operation), ...(run.resume ? { lastSource: run.resume.lastSource } : {}) },
  );
  let end: LogReadEnd = 'gone';
  if (!run.gone && !(run.stopped && !run.pod?.spec?.nodeName)) {
    const reader = new PodLogReader({
      api: context.api,
      podName: run.podName,
      container: SCRIPT_CONTAINER,
      output,
      signal: run.abort.signal,
      containerState: async () => (run.gone ? 'gone' : scriptContainerState(run.pod)),
      diagnostic: (message, err) => context.log.info({ err, pod: run.podName }, message),
    });
    end = await reader.read();
  }
  return scriptResult(
    run.operation,
    {
      stopped: run.stopped,
      exitCode: output.exitCode,
      unexplained: () =>
        end === 'gone' || run.gone
          ? {
              outcome: 'lost',
              message: `The script pod ${run.podName} vanished before the script finished (deleted, evicted, or its node went away)`,
            }
          : { outcome: 'failed', message: terminationMessage(run.pod) },
    },
    [...variables.values()],
  );
}

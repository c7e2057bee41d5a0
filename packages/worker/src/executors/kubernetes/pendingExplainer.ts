import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

/**
 * Turns a pending pod's status and events into task-log lines and a decision, so that a user
 * never stares at an unexplained "pending": the scheduler's and the cluster autoscaler's own
 * words go into the log as they happen. Pure logic: the caller passes the time and everything
 * known about the pod; this remembers only what it already reported.
 */

export interface PendingPolicy {
  pendingTimeoutMs: number;
  /** While a node is being added for the pod, it may stay pending this long from the first TriggeredScaleUp. */
  scaleUpTimeoutMs: number;
  imagePullGraceMs: number;
}

export type PendingVerdict =
  /** Keep waiting; call again by `deadline` at the latest (or on the next event). */
  { kind: 'wait'; deadline: number } | { kind: 'fail'; message: string };

export interface PendingUpdate {
  lines: string[];
  verdict: PendingVerdict;
}

/** Waiting reasons that retrying does not fix: fail at once. */
const HOPELESS = new Set(['InvalidImageName', 'ErrImageNeverPull']);
/** Waiting reasons the kubelet retries, which may clear (a registry blip): fail after the grace. */
const STUCK = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'RegistryUnavailable',
  'CreateContainerConfigError',
  'CreateContainerError',
]);
/** Normal events not worth a line: the container starting is visible from its output. */
const QUIET = new Set(['Created', 'Started', 'Killing', 'SuccessfulAttachVolume']);

export class PendingExplainer {
  private readonly reported = new Map<string, string>();
  private readonly seenEvents = new Set<string>();
  private clockStart: number;
  private stuckSince: number | undefined;

  constructor(
    private readonly policy: PendingPolicy,
    /** When the pod was created: the pending clock starts here. */
    createdAt: number,
  ) {
    this.clockStart = createdAt;
  }

  /** `events` are all events about this pod so far (any order; repeats are fine). */
  update(pod: V1Pod, events: readonly CoreV1Event[], now: number): PendingUpdate {
    const lines: string[] = [];
    const sorted = [...events].sort((a, b) => eventTime(a, now) - eventTime(b, now));
    let autoscaler: { reason: string; message: string } | undefined;
    let lastSchedulerMessage = podScheduledMessage(pod);
    let lastPullFailure: string | undefined;
    // A scale-up is under way from the first TriggeredScaleUp until a NotTriggerScaleUp says it is not.
    let scaleUpSince: number | undefined;
    for (const event of sorted) {
      const reason = event.reason ?? '';
      const message = (event.message ?? '').trim();
      if (reason === 'FailedScheduling') lastSchedulerMessage = message;
      if (reason === 'TriggeredScaleUp' || reason === 'NotTriggerScaleUp') autoscaler = { reason, message };
      if (reason === 'Failed' && /^Failed to pull image/.test(message)) lastPullFailure = message;
      if (reason === 'TriggeredScaleUp') scaleUpSince ??= eventTime(event, now);
      if (reason === 'NotTriggerScaleUp') scaleUpSince = undefined;
      const key = `${event.metadata?.uid ?? event.metadata?.name}|${event.count ?? 1}|${message}`;
      if (this.seenEvents.has(key)) continue;
      this.seenEvents.add(key);
      if (reason === 'TriggeredScaleUp') {
        // A node is on its way: the pending clock restarts, so a slow scale-up is not cut short.
        this.clockStart = Math.max(this.clockStart, eventTime(event, now));
      }
      const line = describeEvent(reason, message, event.type);
      // The scheduler retries every few seconds with the same verdict: say it once per change.
      if (line !== undefined && this.reported.get(reason) !== line) {
        this.reported.set(reason, line);
        lines.push(line);
      }
    }

    if (autoscaler?.reason === 'NotTriggerScaleUp' && !isScheduled(pod)) {
      return {
        lines,
        verdict: {
          kind: 'fail',
          message:
            `The script pod cannot be scheduled and the cluster autoscaler will not add a node for it: ${reasonOf(autoscaler.message)}` +
            (lastSchedulerMessage ? `. The scheduler said: ${withoutFullStop(lastSchedulerMessage)}` : '') +
            ". Lower the step's resource requests, or check the worker's nodeSelector, tolerations and the node groups' sizes.",
        },
      };
    }

    // A node takes minutes on the big clouds: failing at the pending timeout while one is on its way
    // would give up on the very node the pod asked for.
    const pendingDeadline = this.clockStart + this.policy.pendingTimeoutMs;
    const deadline =
      scaleUpSince === undefined
        ? pendingDeadline
        : Math.max(pendingDeadline, scaleUpSince + this.policy.scaleUpTimeoutMs);
    const waiting = waitingContainers(pod);
    const hopeless = waiting.find((c) => HOPELESS.has(c.state!.waiting!.reason!));
    if (hopeless) {
      return {
        lines,
        verdict: {
          kind: 'fail',
          message: `The container '${hopeless.name}' cannot start: ${describeWaiting(hopeless)}`,
        },
      };
    }
    const stuck = waiting.find((c) => STUCK.has(c.state!.waiting!.reason!));
    if (stuck) {
      this.stuckSince ??= now;
      const key = `waiting:${stuck.name}`;
      const line = `The container '${stuck.name}' is waiting: ${describeWaiting(stuck)}`;
      if (this.reported.get(key) !== line) {
        this.reported.set(key, line);
        lines.push(line);
      }
      const failAt = this.stuckSince + this.policy.imagePullGraceMs;
      if (now >= failAt) {
        const what =
          stuck.state!.waiting!.reason!.includes('Image') || stuck.state!.waiting!.reason === 'RegistryUnavailable'
            ? `The image ${stuck.image} cannot be pulled`
            : `The container '${stuck.name}' cannot be created`;
        const detail = lastPullFailure ?? stuck.state!.waiting!.message ?? stuck.state!.waiting!.reason!;
        return {
          lines,
          verdict: { kind: 'fail', message: `${what} (for ${seconds(now - this.stuckSince)}): ${detail}` },
        };
      }
      return { lines, verdict: { kind: 'wait', deadline: Math.min(failAt, deadline) } };
    }
    this.stuckSince = undefined;

    if (now >= deadline) {
      const scheduler =
        lastSchedulerMessage ?? 'the scheduler reported nothing (can the worker read events in its namespace?)';
      const message =
        scaleUpSince === undefined
          ? `The script pod was still pending after ${seconds(now - this.clockStart)} (scriptPods.pendingTimeoutMs = ${this.policy.pendingTimeoutMs}): ${scheduler}`
          : `The script pod was still pending after the cluster autoscaler had been adding a node for it for ${seconds(now - scaleUpSince)} (scriptPods.scaleUpTimeoutMs = ${this.policy.scaleUpTimeoutMs}); ` +
            `no node took it. The scheduler's last message, from before the node: ${scheduler}`;
      return { lines, verdict: { kind: 'fail', message } };
    }
    return { lines, verdict: { kind: 'wait', deadline } };
  }
}

function describeEvent(reason: string, message: string, type: string | undefined): string | undefined {
  switch (reason) {
    case 'FailedScheduling':
      return `Waiting for a node: ${message}`;
    case 'TriggeredScaleUp':
      return `The cluster autoscaler is adding a node (${scaleUpGroups(message)}).`;
    case 'NotTriggerScaleUp':
      return `The cluster autoscaler will not add a node for this pod: ${reasonOf(message)}.`;
    case 'Scheduled': {
      const node = /to (\S+)$/.exec(message)?.[1];
      return node ? `Scheduled on node ${node}.` : message;
    }
    case 'Pulling':
      return `${message.replace(/^Pulling image "(.*)"$/, 'Pulling image $1')}.`;
    case 'Pulled':
      return message;
    case 'BackOff':
      return /pulling image/i.test(message) ? `Waiting to retry the image pull: ${message}` : `${reason}: ${message}`;
    case 'Failed':
      // "Error: ErrImagePull" repeats the reason of the message before it.
      if (/^Error: /.test(message)) return undefined;
      return /^Failed to pull image/.test(message) ? `Image pull failed: ${message}` : `${reason}: ${message}`;
    default:
      if (QUIET.has(reason)) return undefined;
      return type === 'Warning' ? `${reason}: ${message}` : undefined;
  }
}

/** "pod triggered scale-up: [{autoscaled 1->2 (max: 5)}]" -> "group autoscaled, 1 -> 2". */
export function scaleUpGroups(message: string): string {
  const groups = [...message.matchAll(/\{(\S+) (\d+)->(\d+) \(max: (\d+)\)\}/g)].map(
    (m) => `${m[1]}, ${m[2]} -> ${m[3]}`,
  );
  if (groups.length === 0) return message;
  return groups.length === 1 ? `group ${groups[0]}` : `groups ${groups.join('; ')}`;
}

/** "pod didn't trigger scale-up: 1 max node group size reached" -> "1 max node group size reached". */
function reasonOf(message: string): string {
  return message.replace(/^pod didn't trigger scale-up:\s*/, '').replace(/\.$/, '');
}

/** The scheduler ends its messages with a full stop ("... 1 Insufficient cpu."); quoted mid-sentence, it would double ours. */
function withoutFullStop(message: string): string {
  return message.replace(/\.+$/, '');
}

function eventTime(event: CoreV1Event, now: number): number {
  const t = event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp;
  return t === undefined ? now : new Date(t).getTime();
}

function isScheduled(pod: V1Pod): boolean {
  return (
    !!pod.spec?.nodeName ||
    pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True') === true
  );
}

function podScheduledMessage(pod: V1Pod): string | undefined {
  const condition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  return condition?.message || undefined;
}

function waitingContainers(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].filter(
    (c) => c.state?.waiting?.reason,
  );
}

function describeWaiting(status: V1ContainerStatus): string {
  const waiting = status.state!.waiting!;
  return waiting.message ? `${waiting.reason}: ${waiting.message}` : waiting.reason!;
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 120 ? `${Math.round(s / 60)} min` : `${s} s`;
}

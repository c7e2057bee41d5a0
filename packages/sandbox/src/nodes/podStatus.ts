// Pod status as the kubelet computes it (kubelet_pods.go getPhase and generateAPIPodStatus),
// from the container statuses the node keeps: phase, the five conditions, and the pod-level
// reason for a deadline. Pure, so every phase rule has a table test.
export type Obj = Record<string, unknown>;

export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: { waiting?: { reason: string; message?: string }; running?: { startedAt: string }; terminated?: Terminated };
  lastState: { terminated?: Terminated };
}

export interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  signal?: number;
  startedAt: string;
  finishedAt: string;
  containerID?: string;
}

export interface PodRuntime {
  init: ContainerStatus[];
  containers: ContainerStatus[];
  startTime?: string;
  hostIP: string;
  /** From the node's podCIDR: the pod's identity in Endpoints (which refuse loopback addresses);
   *  the pod itself runs in its node's network, as a hostNetwork pod does. */
  podIP: string;
  /** Set when activeDeadlineSeconds passed: the pod fails with reason DeadlineExceeded. */
  deadlineExceeded?: boolean;
  /** Set when the volumes are staged and the sandbox is ready (PodReadyToStartContainers). */
  sandboxReady: boolean;
}

/** terminated.reason for an exit, as the container runtime reports it. */
export function terminatedReason(exitCode: number, oomKilled: boolean): string {
  if (oomKilled) return 'OOMKilled';
  return exitCode === 0 ? 'Completed' : 'Error';
}

const succeeded = (s: ContainerStatus): boolean => s.state.terminated?.exitCode === 0;

/** kubelet getPhase. */
export function podPhase(
  restartPolicy: string,
  rt: Pick<PodRuntime, 'init' | 'containers' | 'deadlineExceeded'>,
  specInitCount: number,
): string {
  if (rt.deadlineExceeded) return 'Failed';
  const initDone = rt.init.length === specInitCount && rt.init.every(succeeded);
  if (!initDone) {
    const failedInit = rt.init.some((s) => s.state.terminated && s.state.terminated.exitCode !== 0);
    return failedInit && restartPolicy === 'Never' ? 'Failed' : 'Pending';
  }
  let running = 0,
    waiting = 0,
    stopped = 0,
    ok = 0;
  for (const s of rt.containers) {
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) ok++;
    } else if (s.lastState.terminated) {
      stopped++;
      if (s.lastState.terminated.exitCode === 0) ok++;
    } else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === ok) return 'Succeeded';
    return restartPolicy === 'Never' ? 'Failed' : 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, previous: Obj[], reason?: string, message?: string): Obj {
  const status = ok ? 'True' : 'False';
  const prev = previous.find((c) => c.type === type);
  const at =
    prev && prev.status === status ? prev.lastTransitionTime : new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: at,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

/** The status the kubelet writes for `pod` given its runtime state; `previous` keeps transition times. */
export function computePodStatus(pod: Obj, rt: PodRuntime): Obj {
  const spec = (pod.spec ?? {}) as Obj;
  const prevStatus = (pod.status ?? {}) as Obj;
  const previous = (prevStatus.conditions ?? []) as Obj[];
  const initSpec = (spec.initContainers ?? []) as Obj[];
  const phase = podPhase(String(spec.restartPolicy ?? 'Always'), rt, initSpec.length);
  const initDone = rt.init.length === initSpec.length && rt.init.every(succeeded);
  const notReady = rt.containers.filter((c) => !c.ready).map((c) => c.name);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const containersReady = !terminal && notReady.length === 0 && rt.containers.length > 0;
  const pendingInit = initSpec
    .map((c) => String(c.name))
    .filter((n) => !rt.init.some((s) => s.name === n && succeeded(s)));
  const unreadyMsg = `containers with unready status: [${notReady.join(' ')}]`;
  const readiness = (type: 'Ready' | 'ContainersReady') =>
    condition(
      type,
      containersReady,
      previous,
      containersReady ? undefined : terminal ? 'PodCompleted' : 'ContainersNotReady',
      containersReady || terminal ? undefined : unreadyMsg,
    );
  const conditions = [
    condition('PodReadyToStartContainers', rt.sandboxReady && !terminal, previous),
    condition(
      'Initialized',
      initDone,
      previous,
      initDone ? undefined : 'ContainersNotInitialized',
      initDone ? undefined : `containers with incomplete status: [${pendingInit.join(' ')}]`,
    ),
    readiness('Ready'),
    readiness('ContainersReady'),
    condition('PodScheduled', true, previous),
  ];
  const qos = qosClass(spec);
  return {
    phase,
    conditions,
    hostIP: rt.hostIP,
    hostIPs: [{ ip: rt.hostIP }],
    podIP: rt.podIP,
    podIPs: [{ ip: rt.podIP }],
    ...(rt.startTime ? { startTime: rt.startTime } : {}),
    ...(initSpec.length ? { initContainerStatuses: rt.init } : {}),
    containerStatuses: rt.containers,
    qosClass: qos,
    ...(rt.deadlineExceeded
      ? { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }
      : {}),
  };
}

/** v1.PodQOSClass: Guaranteed when every container's requests equal its limits for cpu and memory. */
export function qosClass(spec: Obj): string {
  const all = [...((spec.containers ?? []) as Obj[]), ...((spec.initContainers ?? []) as Obj[])];
  let any = false;
  let guaranteed = all.length > 0;
  for (const c of all) {
    const r = (c.resources ?? {}) as Obj;
    const req = (r.requests ?? {}) as Obj;
    const lim = (r.limits ?? {}) as Obj;
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const k of ['cpu', 'memory'])
      if (lim[k] === undefined || (req[k] !== undefined && req[k] !== lim[k])) guaranteed = false;
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

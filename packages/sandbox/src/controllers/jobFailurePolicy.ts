// A Job's podFailurePolicy applied to one failed pod (matchPodFailurePolicy in
// pkg/controller/job/pod_failure_policy.go): the first rule that matches decides FailJob,
// Ignore (the failure does not count) or Count; no match counts as usual.
import type { K8sObject } from '../client/kubeClient.js';
import type { Obj } from './podUtil.js';

export interface PolicyMatch {
  action: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
  /** For FailJob: the Failed condition's message. */
  message: string;
}

function exitCodeMatch(rule: Obj, pod: K8sObject, index: number): PolicyMatch | undefined {
  const req = rule.onExitCodes as Obj;
  const values = new Set(((req.values ?? []) as unknown[]).map(Number));
  const st = (pod.status ?? {}) as Obj;
  const statuses = [...((st.initContainerStatuses ?? []) as Obj[]), ...((st.containerStatuses ?? []) as Obj[])];
  for (const cs of statuses) {
    if (req.containerName && req.containerName !== cs.name) continue;
    const code = ((cs.state as Obj | undefined)?.terminated as Obj | undefined)?.exitCode;
    if (typeof code !== 'number' || code === 0) continue;
    if (values.has(code) === (req.operator === 'In'))
      return {
        action: rule.action as PolicyMatch['action'],
        message: `Container ${String(cs.name)} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${code} matching ${String(rule.action)} rule at index ${index}`,
      };
  }
  return undefined;
}

function conditionMatch(rule: Obj, pod: K8sObject, index: number): PolicyMatch | undefined {
  const conds = (((pod.status ?? {}) as Obj).conditions ?? []) as Obj[];
  for (const pattern of (rule.onPodConditions ?? []) as Obj[]) {
    const c = conds.find((x) => x.type === pattern.type && x.status === (pattern.status ?? 'True'));
    if (c)
      return {
        action: rule.action as PolicyMatch['action'],
        message: `Pod ${pod.metadata.namespace}/${pod.metadata.name} has condition ${String(c.type)} matching ${String(rule.action)} rule at index ${index}`,
      };
  }
  return undefined;
}

export function matchPodFailurePolicy(job: K8sObject, pod: K8sObject): PolicyMatch | undefined {
  const policy = (job.spec as Obj | undefined)?.podFailurePolicy as Obj | undefined;
  const rules = (policy?.rules ?? []) as Obj[];
  for (const [i, rule] of rules.entries()) {
    const m = rule.onExitCodes ? exitCodeMatch(rule, pod, i) : conditionMatch(rule, pod, i);
    if (m) return m;
  }
  return undefined;
}

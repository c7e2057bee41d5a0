// Server-side defaulting (SetObjectDefaults_* of k8s.io/kubernetes/pkg/apis/*/v1): the fields
// clients read back and rely on, e.g. `kubectl rollout status` needs spec.strategy, helm's
// three-way patch compares against imagePullPolicy and terminationMessagePath.
import { defaultCronJob, defaultJob } from './batchDefaults.js';

type Obj = Record<string, unknown>;
const obj = (o: Obj, k: string): Obj => {
  const v = o[k];
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Obj;
  const n: Obj = {};
  o[k] = n;
  return n;
};
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const setDefault = (o: Obj, k: string, v: unknown): void => {
  if (o[k] === undefined) o[k] = v;
};

function imagePullPolicy(image: unknown): string {
  const s = String(image ?? '');
  const noDigest = !s.includes('@');
  const tag = s.slice(s.lastIndexOf('/') + 1).split(':')[1];
  return noDigest && (tag === undefined || tag === 'latest') ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Obj): void {
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'imagePullPolicy', imagePullPolicy(c.image));
  setDefault(c, 'resources', {});
  for (const p of arr(c.ports)) setDefault(p, 'protocol', 'TCP');
  for (const e of arr(c.env)) {
    const fr = (e.valueFrom as Obj | undefined)?.fieldRef as Obj | undefined;
    if (fr) setDefault(fr, 'apiVersion', 'v1');
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const p = c[probe] as Obj | undefined;
    if (!p) continue;
    setDefault(p, 'timeoutSeconds', 1);
    setDefault(p, 'periodSeconds', 10);
    setDefault(p, 'successThreshold', 1);
    setDefault(p, 'failureThreshold', 3);
    const http = p.httpGet as Obj | undefined;
    if (http) {
      setDefault(http, 'scheme', 'HTTP');
      setDefault(http, 'path', '/');
    }
  }
}

export function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const list of ['containers', 'initContainers']) for (const c of arr(spec[list])) defaultContainer(c);
  for (const v of arr(spec.volumes)) {
    for (const src of ['configMap', 'secret', 'projected', 'downwardAPI'] as const) {
      const s = v[src] as Obj | undefined;
      if (s) setDefault(s, 'defaultMode', 420);
    }
  }
  if (spec.serviceAccountName !== undefined && spec.serviceAccount === undefined)
    spec.serviceAccount = spec.serviceAccountName;
}

function qosClass(spec: Obj): string {
  const cs = [...arr(spec.containers), ...arr(spec.initContainers)];
  let anyRequest = false,
    guaranteed = true;
  for (const c of cs) {
    const r = (c.resources ?? {}) as Obj;
    const req = (r.requests ?? {}) as Obj,
      lim = (r.limits ?? {}) as Obj;
    if (Object.keys(req).length || Object.keys(lim).length) anyRequest = true;
    for (const res of ['cpu', 'memory'])
      if (lim[res] === undefined || (req[res] !== undefined && String(req[res]) !== String(lim[res])))
        guaranteed = false;
  }
  if (!anyRequest) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultTemplate(spec: Obj): void {
  const tmpl = obj(spec, 'template');
  obj(tmpl, 'metadata');
  defaultPodSpec(obj(tmpl, 'spec'));
}

/** Defaults applied on create and on update (as the decoder applies them to every write). */
export function applyDefaults(kind: string, o: Obj): void {
  switch (kind) {
    case 'Pod': {
      const spec = obj(o, 'spec');
      defaultPodSpec(spec);
      // SetDefaults_Pod, not SetDefaults_PodSpec: a Deployment's template does not get it.
      setDefault(spec, 'enableServiceLinks', true);
      setDefault(spec, 'priority', 0);
      setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
      const status = obj(o, 'status');
      setDefault(status, 'phase', 'Pending');
      setDefault(status, 'qosClass', qosClass(spec));
      break;
    }
    case 'Deployment': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      const strategy = obj(spec, 'strategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate') {
        const ru = obj(strategy, 'rollingUpdate');
        setDefault(ru, 'maxUnavailable', '25%');
        setDefault(ru, 'maxSurge', '25%');
      }
      defaultTemplate(spec);
      break;
    }
    case 'ReplicaSet': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'replicas', 1);
      defaultTemplate(spec);
      break;
    }
    case 'DaemonSet': {
      const spec = obj(o, 'spec');
      const strategy = obj(spec, 'updateStrategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate') {
        const ru = obj(strategy, 'rollingUpdate');
        setDefault(ru, 'maxUnavailable', 1);
        setDefault(ru, 'maxSurge', 0);
      }
      setDefault(spec, 'revisionHistoryLimit', 10);
      defaultTemplate(spec);
      // Counters without omitempty in apps/v1 DaemonSetStatus: present (0) from the start.
      const status = obj(o, 'status');
      for (const f of ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady'])
        setDefault(status, f, 0);
      break;
    }
    case 'ReplicationController': {
      // SetDefaults_ReplicationController: selector and labels from the template's labels.
      const spec = obj(o, 'spec');
      const tmplLabels = ((spec.template as Obj | undefined)?.metadata as Obj | undefined)?.labels as Obj | undefined;
      if (tmplLabels && Object.keys(tmplLabels).length) {
        if (!spec.selector || !Object.keys(spec.selector as Obj).length) spec.selector = { ...tmplLabels };
        const meta = obj(o, 'metadata');
        if (!meta.labels || !Object.keys(meta.labels as Obj).length) meta.labels = { ...tmplLabels };
      }
      setDefault(spec, 'replicas', 1);
      if (spec.template) defaultTemplate(spec);
      setDefault(obj(o, 'status'), 'replicas', 0);
      break;
    }
    case 'APIService': {
      const service = (o.spec as Obj | undefined)?.service as Obj | undefined;
      if (service) setDefault(service, 'port', 443);
      obj(o, 'status');
      break;
    }
    case 'Job':
      defaultJob(o, defaultPodSpec);
      break;
    case 'CronJob':
      defaultCronJob(o, defaultPodSpec);
      break;
    case 'Secret':
      setDefault(o, 'type', 'Opaque');
      break;
    case 'Namespace': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'finalizers', ['kubernetes']);
      const status = obj(o, 'status');
      setDefault(status, 'phase', 'Active');
      const labels = obj(obj(o, 'metadata'), 'labels');
      labels['kubernetes.io/metadata.name'] = String((o.metadata as Obj).name ?? '');
      break;
    }
    case 'Service': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'type', 'ClusterIP');
      setDefault(spec, 'sessionAffinity', 'None');
      if (spec.type !== 'ExternalName') {
        setDefault(spec, 'internalTrafficPolicy', 'Cluster');
        // A headless Service without a selector takes every family the cluster has (as the reference answers).
        const headless = spec.clusterIP === 'None' || (Array.isArray(spec.clusterIPs) && spec.clusterIPs[0] === 'None');
        const selector = spec.selector as Obj | undefined;
        const anyFamily = headless && (!selector || Object.keys(selector).length === 0);
        setDefault(spec, 'ipFamilyPolicy', anyFamily ? 'RequireDualStack' : 'SingleStack');
        setDefault(spec, 'ipFamilies', anyFamily ? ['IPv4', 'IPv6'] : ['IPv4']);
      }
      for (const p of arr(spec.ports)) {
        setDefault(p, 'protocol', 'TCP');
        setDefault(p, 'targetPort', p.port);
      }
      obj(o, 'status').loadBalancer ??= {};
      break;
    }
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      for (const s of arr(o.subjects))
        if (s.kind === 'User' || s.kind === 'Group') setDefault(s, 'apiGroup', 'rbac.authorization.k8s.io');
      break;
    case 'PodDisruptionBudget': {
      const status = obj(o, 'status');
      setDefault(status, 'disruptionsAllowed', 0);
      setDefault(status, 'currentHealthy', 0);
      setDefault(status, 'desiredHealthy', 0);
      setDefault(status, 'expectedPods', 0);
      break;
    }
    case 'Node': {
      const status = obj(o, 'status');
      if (status.capacity && !status.allocatable) status.allocatable = status.capacity;
      break;
    }
  }
}

/** Secret stringData is write-only: merged into data (base64) and dropped, as kube-apiserver does. */
export function normalizeSecret(o: Obj): void {
  const sd = o.stringData as Record<string, unknown> | undefined;
  if (!sd) return;
  const data = obj(o, 'data');
  for (const [k, v] of Object.entries(sd)) data[k] = Buffer.from(String(v)).toString('base64');
  delete o.stringData;
}

// Decoding of Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf), for the
// kinds kubectl's typed clients send that way: `kubectl create namespace|configmap|secret|
// serviceaccount|role|rolebinding|deployment|job|cronjob|token`, `kubectl auth can-i`. The body is the "k8s\0"
// magic and a runtime.Unknown envelope around the typed message; each message is mapped to the
// JSON object the JSON codec would have produced. Answers stay JSON (clients accept both).
// kubectl has no JSON fallback for a 415 to protobuf (client-go falls back only from CBOR), so a
// kind it sends this way must be decoded here.
//
// The Go marshaller writes every non-pointer field, zero or not, where JSON omits empty ones: a
// zero scalar is dropped unless the field is a pointer (`int*`, `bool*`, `string*`), whose zero
// is a value (`replicas: 0`, `automountServiceAccountToken: false`).
import { errors } from '../errors.js';

type Schema = Record<number, [name: string, type: FieldType]>;
type Scalar = 'string' | 'int' | 'bool';
type FieldType =
  | Scalar
  | `${Scalar}*`
  | 'bytes'
  | 'time'
  | 'intstr'
  | `msg:${string}`
  | `rep:${string}`
  | `map:string`
  | `map:bytes`
  | 'map:quantity';

const S: Record<string, Schema> = {
  Unknown: {
    1: ['typeMeta', 'msg:TypeMeta'],
    2: ['raw', 'bytes'],
    3: ['contentEncoding', 'string'],
    4: ['contentType', 'string'],
  },
  TypeMeta: { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] },
  ObjectMeta: {
    1: ['name', 'string'],
    2: ['generateName', 'string'],
    3: ['namespace', 'string'],
    5: ['uid', 'string'],
    6: ['resourceVersion', 'string'],
    7: ['generation', 'int'],
    8: ['creationTimestamp', 'time'],
    11: ['labels', 'map:string'],
    12: ['annotations', 'map:string'],
    13: ['ownerReferences', 'rep:OwnerReference'],
    14: ['finalizers', 'rep:string'],
  },
  OwnerReference: {
    1: ['kind', 'string'],
    3: ['name', 'string'],
    4: ['uid', 'string'],
    5: ['apiVersion', 'string'],
    6: ['controller', 'bool*'],
    7: ['blockOwnerDeletion', 'bool*'],
  },
  Namespace: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['spec', 'msg:NamespaceSpec'] },
  NamespaceSpec: { 1: ['finalizers', 'rep:string'] },
  ConfigMap: {
    1: ['metadata', 'msg:ObjectMeta'],
    2: ['data', 'map:string'],
    3: ['binaryData', 'map:bytes'],
    4: ['immutable', 'bool*'],
  },
  Secret: {
    1: ['metadata', 'msg:ObjectMeta'],
    2: ['data', 'map:bytes'],
    3: ['type', 'string'],
    4: ['stringData', 'map:string'],
    5: ['immutable', 'bool*'],
  },
  ServiceAccount: {
    1: ['metadata', 'msg:ObjectMeta'],
    3: ['imagePullSecrets', 'rep:LocalObjectReference'],
    4: ['automountServiceAccountToken', 'bool*'],
  },
  LocalObjectReference: { 1: ['name', 'string'] },
  Role: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['rules', 'rep:PolicyRule'] },
  ClusterRole: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['rules', 'rep:PolicyRule'] },
  PolicyRule: {
    1: ['verbs', 'rep:string'],
    2: ['apiGroups', 'rep:string'],
    3: ['resources', 'rep:string'],
    4: ['resourceNames', 'rep:string'],
    5: ['nonResourceURLs', 'rep:string'],
  },
  RoleBinding: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['subjects', 'rep:Subject'], 3: ['roleRef', 'msg:RoleRef'] },
  ClusterRoleBinding: {
    1: ['metadata', 'msg:ObjectMeta'],
    2: ['subjects', 'rep:Subject'],
    3: ['roleRef', 'msg:RoleRef'],
  },
  Subject: { 1: ['kind', 'string'], 2: ['apiGroup', 'string'], 3: ['name', 'string'], 4: ['namespace', 'string'] },
  RoleRef: { 1: ['apiGroup', 'string'], 2: ['kind', 'string'], 3: ['name', 'string'] },
  TokenRequest: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['spec', 'msg:TokenRequestSpec'] },
  TokenRequestSpec: {
    1: ['audiences', 'rep:string'],
    3: ['boundObjectRef', 'msg:BoundObjectReference'],
    4: ['expirationSeconds', 'int*'],
  },
  BoundObjectReference: {
    1: ['kind', 'string'],
    2: ['apiVersion', 'string'],
    3: ['name', 'string'],
    4: ['uid', 'string'],
  },
  SelfSubjectAccessReview: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['spec', 'msg:SelfSubjectAccessReviewSpec'] },
  SelfSubjectAccessReviewSpec: {
    1: ['resourceAttributes', 'msg:ResourceAttributes'],
    2: ['nonResourceAttributes', 'msg:NonResourceAttributes'],
  },
  SubjectAccessReview: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['spec', 'msg:SubjectAccessReviewSpec'] },
  SubjectAccessReviewSpec: {
    1: ['resourceAttributes', 'msg:ResourceAttributes'],
    2: ['nonResourceAttributes', 'msg:NonResourceAttributes'],
    3: ['user', 'string'],
    4: ['groups', 'rep:string'],
    6: ['uid', 'string'],
  },
  ResourceAttributes: {
    1: ['namespace', 'string'],
    2: ['verb', 'string'],
    3: ['group', 'string'],
    4: ['version', 'string'],
    5: ['resource', 'string'],
    6: ['subresource', 'string'],
    7: ['name', 'string'],
  },
  NonResourceAttributes: { 1: ['path', 'string'], 2: ['verb', 'string'] },
  SelfSubjectRulesReview: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['spec', 'msg:SelfSubjectRulesReviewSpec'] },
  SelfSubjectRulesReviewSpec: { 1: ['namespace', 'string'] },
  SelfSubjectReview: { 1: ['metadata', 'msg:ObjectMeta'] },
  TokenReview: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['spec', 'msg:TokenReviewSpec'] },
  TokenReviewSpec: { 1: ['token', 'string'], 2: ['audiences', 'rep:string'] },
  DeleteOptions: {
    1: ['gracePeriodSeconds', 'int*'],
    2: ['preconditions', 'msg:Preconditions'],
    3: ['orphanDependents', 'bool*'],
    4: ['propagationPolicy', 'string*'],
    5: ['dryRun', 'rep:string'],
  },
  Preconditions: { 1: ['uid', 'string*'], 2: ['resourceVersion', 'string*'] },
  Eviction: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['deleteOptions', 'msg:DeleteOptions'] },
  Deployment: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['spec', 'msg:DeploymentSpec'], 3: ['status', 'msg:Empty'] },
  DeploymentSpec: {
    1: ['replicas', 'int*'],
    2: ['selector', 'msg:LabelSelector'],
    3: ['template', 'msg:PodTemplateSpec'],
    4: ['strategy', 'msg:DeploymentStrategy'],
    5: ['minReadySeconds', 'int'],
    6: ['revisionHistoryLimit', 'int*'],
    7: ['paused', 'bool'],
    9: ['progressDeadlineSeconds', 'int*'],
  },
  Job: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['spec', 'msg:JobSpec'], 3: ['status', 'msg:Empty'] },
  JobSpec: {
    1: ['parallelism', 'int*'],
    2: ['completions', 'int*'],
    3: ['activeDeadlineSeconds', 'int*'],
    4: ['selector', 'msg:LabelSelector'],
    5: ['manualSelector', 'bool*'],
    6: ['template', 'msg:PodTemplateSpec'],
    7: ['backoffLimit', 'int*'],
    8: ['ttlSecondsAfterFinished', 'int*'],
    9: ['completionMode', 'string*'],
    10: ['suspend', 'bool*'],
    14: ['podReplacementPolicy', 'string*'],
  },
  CronJob: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['spec', 'msg:CronJobSpec'], 3: ['status', 'msg:Empty'] },
  CronJobSpec: {
    1: ['schedule', 'string'],
    2: ['startingDeadlineSeconds', 'int*'],
    3: ['concurrencyPolicy', 'string'],
    4: ['suspend', 'bool*'],
    5: ['jobTemplate', 'msg:JobTemplateSpec'],
    6: ['successfulJobsHistoryLimit', 'int*'],
    7: ['failedJobsHistoryLimit', 'int*'],
    8: ['timeZone', 'string*'],
  },
  JobTemplateSpec: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['spec', 'msg:JobSpec'] },
  DeploymentStrategy: { 1: ['type', 'string'], 2: ['rollingUpdate', 'msg:RollingUpdateDeployment'] },
  RollingUpdateDeployment: { 1: ['maxUnavailable', 'intstr'], 2: ['maxSurge', 'intstr'] },
  LabelSelector: { 1: ['matchLabels', 'map:string'], 2: ['matchExpressions', 'rep:LabelSelectorRequirement'] },
  LabelSelectorRequirement: { 1: ['key', 'string'], 2: ['operator', 'string'], 3: ['values', 'rep:string'] },
  PodTemplateSpec: { 1: ['metadata', 'msg:ObjectMeta'], 2: ['spec', 'msg:PodSpec'] },
  // The fields `kubectl create deployment` sets, and the plain ones beside them; others are dropped.
  PodSpec: {
    2: ['containers', 'rep:Container'],
    20: ['initContainers', 'rep:Container'],
    3: ['restartPolicy', 'string'],
    4: ['terminationGracePeriodSeconds', 'int*'],
    5: ['activeDeadlineSeconds', 'int*'],
    6: ['dnsPolicy', 'string'],
    7: ['nodeSelector', 'map:string'],
    8: ['serviceAccountName', 'string'],
    9: ['serviceAccount', 'string'],
    21: ['automountServiceAccountToken', 'bool*'],
    10: ['nodeName', 'string'],
    11: ['hostNetwork', 'bool'],
    15: ['imagePullSecrets', 'rep:LocalObjectReference'],
    16: ['hostname', 'string'],
    17: ['subdomain', 'string'],
    19: ['schedulerName', 'string'],
    24: ['priorityClassName', 'string'],
    25: ['priority', 'int*'],
    30: ['enableServiceLinks', 'bool*'],
  },
  Container: {
    1: ['name', 'string'],
    2: ['image', 'string'],
    3: ['command', 'rep:string'],
    4: ['args', 'rep:string'],
    5: ['workingDir', 'string'],
    6: ['ports', 'rep:ContainerPort'],
    7: ['env', 'rep:EnvVar'],
    8: ['resources', 'msg:ResourceRequirements'],
    9: ['volumeMounts', 'rep:VolumeMount'],
    13: ['terminationMessagePath', 'string'],
    20: ['terminationMessagePolicy', 'string'],
    14: ['imagePullPolicy', 'string'],
    16: ['stdin', 'bool'],
    17: ['stdinOnce', 'bool'],
    18: ['tty', 'bool'],
  },
  ContainerPort: {
    1: ['name', 'string'],
    2: ['hostPort', 'int'],
    3: ['containerPort', 'int'],
    4: ['protocol', 'string'],
    5: ['hostIP', 'string'],
  },
  EnvVar: { 1: ['name', 'string'], 2: ['value', 'string'] },
  ResourceRequirements: { 1: ['limits', 'map:quantity'], 2: ['requests', 'map:quantity'] },
  VolumeMount: {
    1: ['name', 'string'],
    2: ['readOnly', 'bool'],
    3: ['mountPath', 'string'],
    4: ['subPath', 'string'],
    5: ['mountPropagation', 'string*'],
    6: ['subPathExpr', 'string'],
  },
  IntOrString: { 1: ['type', 'int'], 2: ['intVal', 'int'], 3: ['strVal', 'string'] },
  Quantity: { 1: ['string', 'string'] },
  /** A status a client sends on create: the server resets it, so its fields do not matter. */
  Empty: {},
  Timestamp: { 1: ['seconds', 'int'], 2: ['nanos', 'int'] },
  MapEntry: { 1: ['key', 'string'], 2: ['value', 'bytes'] },
};

class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly end = buf.length,
  ) {}
  varint(): bigint {
    let result = 0n,
      shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  }
  bytes(): Buffer {
    const n = Number(this.varint());
    if (n < 0 || this.pos + n > this.end) throw new Error('truncated field');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

type Obj = Record<string, unknown>;

function decodeMessage(buf: Buffer, type: string): Obj {
  const schema = S[type];
  if (!schema) throw new Error(`no schema for ${type}`);
  const r = new Reader(buf);
  const out: Obj = {};
  while (r.pos < r.end) {
    const tag = Number(r.varint());
    const field = tag >>> 3,
      wire = tag & 7;
    const spec = schema[field];
    let raw: bigint | Buffer;
    if (wire === 0) raw = r.varint();
    else if (wire === 2) raw = r.bytes();
    else if (wire === 1) {
      r.pos += 8;
      continue;
    } else if (wire === 5) {
      r.pos += 4;
      continue;
    } else throw new Error(`wire type ${wire}`);
    if (!spec) continue; // a field this decoder does not know: dropped, as an old server would
    const [name, ft] = spec;
    const pointer = ft.endsWith('*');
    const scalar = pointer ? ft.slice(0, -1) : ft;
    if (scalar === 'string' || scalar === 'int' || scalar === 'bool') {
      const v =
        scalar === 'string'
          ? (raw as Buffer).toString('utf8')
          : scalar === 'int'
            ? Number(BigInt.asIntN(64, raw as bigint))
            : raw !== 0n;
      if (pointer || (v !== '' && v !== 0 && v !== false)) out[name] = v;
      else delete out[name];
    } else if (ft === 'bytes') out[name] = raw;
    else if (ft === 'time') {
      // A zero metav1.Time is left out, as kube-apiserver 1.34 writes a pod template's creationTimestamp.
      const seconds = Number(decodeMessage(raw as Buffer, 'Timestamp').seconds ?? 0);
      if (seconds !== 0) out[name] = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    } else if (ft === 'intstr') {
      const v = decodeMessage(raw as Buffer, 'IntOrString');
      out[name] = v.type === 1 ? String(v.strVal ?? '') : Number(v.intVal ?? 0);
    } else if (ft.startsWith('msg:')) out[name] = decodeMessage(raw as Buffer, ft.slice(4));
    else if (ft.startsWith('rep:')) {
      const item = ft.slice(4);
      const v = item === 'string' ? (raw as Buffer).toString('utf8') : decodeMessage(raw as Buffer, item);
      ((out[name] ??= []) as unknown[]).push(v);
    } else if (ft.startsWith('map:')) {
      const e = decodeMessage(raw as Buffer, 'MapEntry');
      const value = (e.value as Buffer | undefined) ?? Buffer.alloc(0);
      ((out[name] ??= {}) as Obj)[String(e.key ?? '')] =
        ft === 'map:bytes'
          ? value.toString('base64')
          : ft === 'map:quantity'
            ? String(decodeMessage(value, 'Quantity').string ?? '')
            : value.toString('utf8');
    }
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a protobuf request body into the equivalent JSON object (415 for kinds not known here). */
export function decodeProtobufBody(body: Buffer): Obj {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC))
    throw errors.badRequest('protobuf body without the k8s envelope');
  let env: Obj;
  try {
    env = decodeMessage(body.subarray(4), 'Unknown');
  } catch (err) {
    throw errors.badRequest(`invalid protobuf envelope: ${String(err)}`);
  }
  const tm = (env.typeMeta ?? {}) as Obj;
  const kind = String(tm.kind ?? '');
  if (!S[kind] || kind === 'Unknown' || kind === 'TypeMeta') {
    throw errors.unsupportedMediaType();
  }
  let obj: Obj;
  try {
    obj = decodeMessage((env.raw as Buffer | undefined) ?? Buffer.alloc(0), kind);
  } catch (err) {
    throw errors.badRequest(`invalid protobuf ${kind}: ${String(err)}`);
  }
  return { apiVersion: tm.apiVersion, kind, ...obj };
}

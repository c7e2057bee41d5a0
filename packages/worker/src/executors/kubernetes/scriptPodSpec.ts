import type { V1Container, V1Pod, V1ResourceRequirements, V1Secret, V1Volume } from '@kubernetes/client-node';
import {
  LongshoreError,
  RESOURCE_NAMES,
  type Operation,
  type ResourceList,
  compareQuantities,
  isQuantity,
} from '@longshore/protocol';
import { bootstrapCommand } from '../../bootstrap/bootstrapScript.js';
import { dockerRejection } from '../executor.js';
import type { WorkspaceFiles } from '../../workspace.js';
import { ANNOTATIONS, LABELS, PACKAGES_CONTAINER, SCRIPT_CONTAINER, labelValue, scriptPodNames } from './kubeNames.js';
import type { FetchManifest } from './packageFetcher.js';
import { applyPodSpecPatch } from './podSpecPatch.js';
import type { ScriptPodsConfig } from './scriptPodsConfig.js';

/**
 * Pure functions: configuration and operation in, Secret and Pod out, no I/O (trigger.dev's
 * kubernetesPodSpec.ts, done as table-tested functions). Sensitive values go into the Secret
 * only; the pod spec names the Secret and holds nothing a `kubectl get pod -o yaml` must not show.
 */

export const WORKSPACE_DIR = '/longshore/workspace';
export const WORK_DIR = '/longshore/work';
export const FETCH_DIR = '/longshore/fetch';
/** Keys of the Secret the package fetcher reads; only its init container mounts them. */
export const FETCH_KEYS = { manifest: 'fetch-manifest.json', token: 'fetch-token', ca: 'fetch-server-ca.pem' } as const;

/**
 * The worker times an operation out itself (and reports `timed_out` with the log); the pod's
 * own deadline is the backstop for a worker that is gone, so it comes a little later.
 */
const DEADLINE_SLACK_SECONDS = 120;
/** Kubernetes refuses a Secret whose data is over 1 MiB; keep room for the keys and metadata. */
const MAX_SECRET_BYTES = 1024 * 1024 - 16 * 1024;

export interface ServerInfo {
  /** The Longshore server the package fetcher downloads from. */
  url: string;
  /** PEM of a CA to trust for it (a self-signed server). */
  caPem?: string;
}

/**
 * What lets the init container download this operation's packages: a credential the server
 * issued for this operation only, readable from the Secret and nowhere else.
 */
export interface PackageAccess {
  token: string;
}

export interface ScriptPodInput {
  config: ScriptPodsConfig;
  operation: Operation;
  /** stageWorkspace()'s map: every name is a valid Secret key. */
  workspace: WorkspaceFiles;
  secretName: string;
  server: ServerInfo;
  /** Required when the operation has packages. */
  packageAccess?: PackageAccess;
}

export type RejectionReason =
  | 'needs-docker'
  | 'resources-over-cap'
  | 'resources-invalid'
  | 'workspace-too-large'
  | 'packages-unsupported'
  | 'no-upgrader';

/** An operation this worker cannot run: the executor reports it as `rejected` with the message. */
export class ScriptPodRejection extends LongshoreError {
  constructor(reason: RejectionReason, message: string, details: Record<string, unknown> = {}) {
    super('VALIDATION_FAILED', message, { ...details, rejection: reason });
  }
}

/** By code and details, not instanceof: the package may be loaded twice. */
export function isScriptPodRejection(error: unknown): error is ScriptPodRejection {
  const e = error as { code?: unknown; details?: { rejection?: unknown } } | null;
  return (
    typeof e === 'object' && e !== null && e.code === 'VALIDATION_FAILED' && typeof e.details?.rejection === 'string'
  );
}

/** The upgrader ServiceAccount a worker's upgrade runs under; undefined for every other operation. */
function upgraderAccount(config: ScriptPodsConfig, operation: Operation): string | undefined {
  if (operation.purpose !== 'worker-upgrade') return undefined;
  if (config.upgraderServiceAccountName) return config.upgraderServiceAccountName;
  throw new ScriptPodRejection(
    'no-upgrader',
    "This worker's chart has no upgrader ServiceAccount (upgrader.enabled is false, or the chart is older than server-driven upgrades), so the server cannot upgrade it: upgrade it with helm upgrade",
  );
}

export function buildScriptPod(input: ScriptPodInput): { secret: V1Secret; pod: V1Pod } {
  const { config, operation } = input;
  const docker = dockerRejection(operation);
  if (docker)
    throw new ScriptPodRejection(
      'needs-docker',
      `The Kubernetes worker runs scripts in pods and has no Docker daemon. ${docker}`,
    );
  const upgrader = upgraderAccount(config, operation);
  const resources = scriptPodResources(config, operation);
  const names = scriptPodNames(operation.id);
  const labels = {
    ...config.labels,
    [LABELS.worker]: labelValue(config.workerName),
    [LABELS.operation]: labelValue(operation.id),
    [LABELS.task]: labelValue(operation.taskId),
    [LABELS.step]: labelValue(`${operation.step.index}-${operation.step.name}`),
  };
  const secret = buildSecret(input, labels);
  const image = operation.container?.image ?? config.worker.image;
  const script: V1Container = {
    name: SCRIPT_CONTAINER,
    image,
    ...(config.worker.imagePullPolicy && !operation.container?.image
      ? { imagePullPolicy: config.worker.imagePullPolicy }
      : {}),
    command: bootstrapCommand(operation.script.syntax, WORKSPACE_DIR, WORK_DIR),
    workingDir: WORK_DIR,
    resources,
    ...(config.containerSecurityContext ? { securityContext: config.containerSecurityContext } : {}),
    volumeMounts: [
      { name: 'workspace', mountPath: WORKSPACE_DIR, readOnly: true },
      { name: 'work', mountPath: WORK_DIR },
    ],
  };
  const volumes: V1Volume[] = [
    // World-readable: the container may run as any uid (OpenShift assigns random ones); the pod is the boundary.
    {
      name: 'workspace',
      secret: {
        secretName: input.secretName,
        defaultMode: 0o444,
        items: Object.keys(input.workspace).map((key) => ({ key, path: key })),
      },
    },
    { name: 'work', emptyDir: {} },
  ];
  const initContainers: V1Container[] = [];
  if (operation.packages.length > 0) {
    volumes.push({
      name: 'fetch',
      secret: {
        secretName: input.secretName,
        defaultMode: 0o444,
        items: fetchKeys(input).map((key) => ({ key, path: key })),
      },
    });
    initContainers.push({
      name: PACKAGES_CONTAINER,
      image: config.packageFetcher.image,
      // The longshore CLI verb that downloads, verifies (sha256) and extracts the manifest's packages
      // into WORK_DIR/packages/<reference>, where the local executor puts them too.
      command: [
        'longshore',
        'fetch-packages',
        '--manifest',
        `${FETCH_DIR}/${FETCH_KEYS.manifest}`,
        '--token-file',
        `${FETCH_DIR}/${FETCH_KEYS.token}`,
        '--into',
        WORK_DIR,
        ...(input.server.caPem ? ['--ca-file', `${FETCH_DIR}/${FETCH_KEYS.ca}`] : []),
      ],
      // The fetcher's last lines (which package, and why) become the container's termination
      // message, which the executor puts in the operation's outcome: the task log shows them.
      terminationMessagePolicy: 'FallbackToLogsOnError',
      // Init containers count as max(init, sum of containers) for scheduling: the same resources add nothing.
      resources,
      ...(config.containerSecurityContext ? { securityContext: config.containerSecurityContext } : {}),
      volumeMounts: [
        { name: 'fetch', mountPath: FETCH_DIR, readOnly: true },
        { name: 'work', mountPath: WORK_DIR },
      ],
    });
  }
  const spec = {
    restartPolicy: 'Never',
    activeDeadlineSeconds: operation.timeoutSeconds + DEADLINE_SLACK_SECONDS,
    terminationGracePeriodSeconds: config.deleteGracePeriodSeconds,
    // Service links put every Service of the namespace into the environment: noise for scripts, and in busy namespaces enough to break exec (ARG_MAX).
    enableServiceLinks: false,
    ...(config.serviceAccountName ? { serviceAccountName: config.serviceAccountName } : {}),
    ...(config.nodeSelector ? { nodeSelector: config.nodeSelector } : {}),
    ...(config.tolerations ? { tolerations: config.tolerations } : {}),
    ...(config.affinity ? { affinity: config.affinity } : {}),
    ...(config.imagePullSecrets?.length ? { imagePullSecrets: config.imagePullSecrets.map((name) => ({ name })) } : {}),
    ...(config.podSecurityContext ? { securityContext: config.podSecurityContext } : {}),
    ...(initContainers.length ? { initContainers } : {}),
    containers: [script],
    volumes,
  };
  const patched = config.podSpecPatch ? applyPodSpecPatch(spec, config.podSpecPatch) : spec;
  // A restarting script pod would run a finished deployment step again (Octopus' pod template
  // dropped this, helm-charts #684): no patch may change it.
  patched.restartPolicy = 'Never';
  if (upgrader) patched.serviceAccountName = upgrader;
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: names.pod,
      namespace: config.namespace,
      labels,
      annotations: {
        ...config.annotations,
        [ANNOTATIONS.safeToEvict]: 'false',
        [ANNOTATIONS.stepName]: operation.step.name,
      },
    },
    spec: patched as V1Pod['spec'],
  };
  return { secret, pod };
}

function buildSecret(input: ScriptPodInput, labels: Record<string, string>): V1Secret {
  const files: Record<string, string> = { ...input.workspace };
  if (input.operation.packages.length > 0) {
    if (!input.packageAccess)
      throw new LongshoreError(
        'INTERNAL',
        `Operation ${input.operation.id} has packages but no package credential was issued`,
      );
    for (const key of Object.values(FETCH_KEYS)) {
      if (key in files) throw new LongshoreError('INTERNAL', `The workspace already has a file named ${key}`);
    }
    const manifest: FetchManifest = {
      serverUrl: input.server.url,
      packages: input.operation.packages.map(({ reference, packageId, version, format, sha256, downloadPath }) => ({
        reference,
        packageId,
        version,
        format,
        sha256,
        downloadPath,
      })),
    };
    files[FETCH_KEYS.manifest] = `${JSON.stringify(manifest, null, 2)}\n`;
    files[FETCH_KEYS.token] = input.packageAccess.token;
    if (input.server.caPem) files[FETCH_KEYS.ca] = input.server.caPem;
  }
  const data: Record<string, string> = {};
  let bytes = 0;
  for (const [key, content] of Object.entries(files)) {
    const raw = Buffer.from(content, 'utf8');
    bytes += raw.length + key.length;
    data[key] = raw.toString('base64');
  }
  if (bytes > MAX_SECRET_BYTES) {
    throw new ScriptPodRejection(
      'workspace-too-large',
      `The operation's script and variables take ${bytes} bytes, more than fits in a Kubernetes Secret (1 MiB). Move large content into a package.`,
      { bytes },
    );
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    // Immutable: the kubelet need not watch it, and nothing rewrites a running operation's workspace.
    immutable: true,
    metadata: { name: input.secretName, namespace: input.config.namespace, labels },
    data,
  };
}

function fetchKeys(input: ScriptPodInput): string[] {
  return input.server.caPem
    ? [FETCH_KEYS.manifest, FETCH_KEYS.token, FETCH_KEYS.ca]
    : [FETCH_KEYS.manifest, FETCH_KEYS.token];
}

/**
 * The step's requests and limits where it sets them, the configured defaults for the rest.
 * A request over maxAllowed rejects the operation (silently shrinking it would fail the script
 * later, obscurely), unless the requests are the server's recommendation (`resourcesAuto`),
 * which is held to the cap instead: the step asked for nothing in particular. A limit over the
 * cap is lowered to it; a limit below the request is raised to it, since Kubernetes refuses a
 * request above its limit.
 */
export function scriptPodResources(config: ScriptPodsConfig, operation: Operation): V1ResourceRequirements {
  const { requests: defaultRequests = {}, limits: defaultLimits = {}, maxAllowed = {} } = config.resources;
  const stepRequests: ResourceList = operation.resources?.requests ?? {};
  const stepLimits: ResourceList = operation.resources?.limits ?? {};
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  for (const name of RESOURCE_NAMES) {
    const cap = maxAllowed[name];
    const asked = stepRequests[name];
    for (const [kind, q] of [
      ['requests', asked],
      ['limits', stepLimits[name]],
    ] as const) {
      if (q !== undefined && !isQuantity(q)) {
        throw new ScriptPodRejection(
          'resources-invalid',
          `The step's resource ${kind}.${name} '${q}' is not a Kubernetes quantity (e.g. 500m, 2, 512Mi).`,
          { resource: name },
        );
      }
    }
    const overCap = asked !== undefined && cap !== undefined && compareQuantities(asked, cap) > 0;
    if (overCap && !operation.resourcesAuto) {
      throw new ScriptPodRejection(
        'resources-over-cap',
        `The step requests ${name} ${asked}, more than this worker allows (scriptPods.resources.maxAllowed.${name} = ${cap}). Lower the step's request or raise the cap in the worker's chart values.`,
        { resource: name, requested: asked, maxAllowed: cap },
      );
    }
    const request = overCap ? cap : (asked ?? defaultRequests[name]);
    let limit = stepLimits[name] ?? defaultLimits[name];
    if (limit !== undefined && cap !== undefined && compareQuantities(limit, cap) > 0) limit = cap;
    if (limit !== undefined && request !== undefined && compareQuantities(limit, request) < 0) limit = request;
    if (request !== undefined) requests[name] = request;
    if (limit !== undefined) limits[name] = limit;
  }
  return { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) };
}

// Small builders shared by the battery's steps: paths, manifests, content types and the
// expectations of the Status answers every Kubernetes API server gives.
import type { ApiResponse } from './cluster.js';
import type { Fields } from './normalize.js';

export const MERGE = 'application/merge-patch+json';
export const STRATEGIC = 'application/strategic-merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';

export function query(params: Record<string, string | number>): string {
  return new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
}

/** /api/v1/namespaces/<ns>/<resource>[/<name>][?query] */
export function core(ns: string, resource: string, name?: string, q?: Record<string, string | number>): string {
  return `/api/v1/namespaces/${ns}/${resource}${name ? `/${name}` : ''}${q ? `?${query(q)}` : ''}`;
}

/** /apis/<group/version>/namespaces/<ns>/<resource>[/<name>][?query] */
export function grouped(
  gv: string,
  ns: string,
  resource: string,
  name?: string,
  q?: Record<string, string | number>,
): string {
  return `/apis/${gv}/namespaces/${ns}/${resource}${name ? `/${name}` : ''}${q ? `?${query(q)}` : ''}`;
}

export function configMap(name: string, labels?: Record<string, string>, data?: Record<string, string>): object {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, ...(labels ? { labels } : {}) },
    ...(data ? { data } : {}),
  };
}

/** No scheduler picks these pods up on either server (the schedulerName matches none), so their
 *  status only changes when a step writes it. */
export const NO_SCHEDULER = 'longshore-differential-none';

export function pod(name: string, labels?: Record<string, string>, containers?: object[]): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: {
      schedulerName: NO_SCHEDULER,
      restartPolicy: 'Never',
      containers: containers ?? [{ name: 'main', image: 'busybox:1.36' }],
    },
  };
}

/** The Accept header of `kubectl get`: a meta.k8s.io Table. */
export const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

/** A Job's pod template whose pods never run: restartPolicy Never, a scheduler nobody serves. */
export function jobPodTemplate(spec: Record<string, unknown> = {}, labels?: Record<string, string>): object {
  return {
    ...(labels ? { metadata: { labels } } : {}),
    spec: {
      schedulerName: NO_SCHEDULER,
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'busybox:1.36', command: ['true'] }],
      ...spec,
    },
  };
}

export function resourceVersionOf(res: ApiResponse): string {
  const rv = (res.body as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : '';
}

export const notFound = (resource: string, name: string): Fields => ({
  http: 404,
  kind: 'Status',
  status: 'Failure',
  reason: 'NotFound',
  code: 404,
  message: `${resource} "${name}" not found`,
  'details.name': name,
  'details.kind': resource,
});

export const alreadyExists = (resource: string, name: string): Fields => ({
  http: 409,
  reason: 'AlreadyExists',
  code: 409,
  message: `${resource} "${name}" already exists`,
  'details.name': name,
  'details.kind': resource,
});

export const conflict = (resource: string, name: string): Fields => ({
  http: 409,
  reason: 'Conflict',
  code: 409,
  'details.name': name,
  'details.kind': resource,
  message: `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
});

/** 422 with the object's Kind (not the resource) in details, and causes as "field|reason". */
export const invalid = (kind: string, name: string | undefined, causes: string[]): Fields => ({
  http: 422,
  kind: 'Status',
  reason: 'Invalid',
  code: 422,
  'details.kind': kind,
  'details.name': name,
  'details.causes': causes,
});

export const badRequest: Fields = { http: 400, kind: 'Status', reason: 'BadRequest', code: 400 };

/** RBAC's denial, worded as kubectl users know it. */
export function forbidden(user: string, verb: string, resource: string, ns: string, name?: string): Fields {
  const subject = name ? `${resource} "${name}"` : resource;
  return {
    http: 403,
    reason: 'Forbidden',
    code: 403,
    'details.kind': resource,
    'details.name': name,
    message: `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "" in the namespace "${ns}"`,
  };
}

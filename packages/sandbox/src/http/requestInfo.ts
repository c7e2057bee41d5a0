// Turns a request into what authorization and routing need, as k8s.io/apiserver's
// RequestInfoFactory does: is it a resource request, which verb (get/list/watch/create/update/
// patch/delete/deletecollection), group, version, namespace, resource, name, subresource.

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix?: 'api' | 'apis';
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
  /** Segments past the subresource (unsupported; answered 404). */
  extra: string[];
}

const METHOD_VERBS: Record<string, string> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
  GET: 'get',
  HEAD: 'get',
};

export function requestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map((p) => decodeURIComponent(p));
  const baseVerb = METHOD_VERBS[method] ?? method.toLowerCase();
  const nonResource: RequestInfo = {
    isResourceRequest: false,
    path: pathname,
    verb: baseVerb,
    group: '',
    version: '',
    extra: [],
  };
  if (parts[0] !== 'api' && parts[0] !== 'apis') return nonResource;
  let rest: string[];
  const info: RequestInfo = {
    isResourceRequest: false,
    path: pathname,
    verb: baseVerb,
    apiPrefix: parts[0],
    group: '',
    version: '',
    extra: [],
  };
  if (parts[0] === 'api') {
    if (parts.length < 3) return nonResource; // /api, /api/v1 are discovery
    info.version = parts[1]!;
    rest = parts.slice(2);
  } else {
    if (parts.length < 4) return nonResource;
    info.group = parts[1]!;
    info.version = parts[2]!;
    rest = parts.slice(3);
  }
  info.isResourceRequest = true;
  if (rest[0] === 'namespaces') {
    if (rest.length >= 3) {
      info.namespace = rest[1];
      rest = rest.slice(2);
    } else {
      // /namespaces or /namespaces/<name>: the namespace object itself, "in" its own namespace.
      if (rest.length === 2) info.namespace = rest[1];
    }
  }
  info.resource = rest[0];
  info.name = rest[1];
  info.subresource = rest[2];
  info.extra = rest.slice(3);
  // /namespaces/<ns>/<sub>? No: /api/v1/namespaces/x/status was split above as namespace "x", resource "status".
  if (
    parts[0] === 'api' &&
    parts[2] === 'namespaces' &&
    parts.length === 5 &&
    (parts[4] === 'status' || parts[4] === 'finalize')
  ) {
    info.namespace = parts[3];
    info.resource = 'namespaces';
    info.name = parts[3];
    info.subresource = parts[4];
    info.extra = [];
  }
  const watch = query.get('watch');
  const isWatch = watch === 'true' || watch === '1';
  if (method === 'GET' || method === 'HEAD') {
    if (!info.name) info.verb = isWatch ? 'watch' : 'list';
    else if (isWatch) info.verb = 'watch';
  }
  if (method === 'DELETE' && !info.name) info.verb = 'deletecollection';
  return info;
}

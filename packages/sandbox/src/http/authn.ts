// Bearer-token authentication of a request. No header: anonymous (kube-apiserver's default
// --anonymous-auth=true), which RBAC then refuses almost everything. A token nobody issued: 401.
import type { IncomingMessage } from 'node:http';
import { errors } from '../errors.js';
import { ANONYMOUS, parseServiceAccountUsername, type UserInfo } from '../auth/user.js';
import { authorize, forbiddenMessage, type RequestAttributes } from '../rbac/evaluate.js';
import type { ServerContext } from './context.js';

export function authenticateToken(sc: ServerContext, token: string): UserInfo | undefined {
  const fixed = sc.tokens.staticUser(token);
  if (fixed) return fixed;
  const claims = sc.tokens.verify(token);
  if (!claims) return undefined;
  const k = claims['kubernetes.io'];
  // A token outlives nothing it names: its ServiceAccount (same uid) and bound pod must exist.
  const sa = sc.store.get('/serviceaccounts', `${k.namespace}/${k.serviceaccount.name}`);
  if (!sa || sa.metadata.uid !== k.serviceaccount.uid || sa.metadata.deletionTimestamp) return undefined;
  if (k.pod) {
    const pod = sc.store.get('/pods', `${k.namespace}/${k.pod.name}`);
    if (!pod || pod.metadata.uid !== k.pod.uid) return undefined;
  }
  return sc.tokens.userFromClaims(claims);
}

export function authenticate(sc: ServerContext, req: IncomingMessage): UserInfo {
  const h = req.headers.authorization;
  if (!h) return ANONYMOUS;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw errors.unauthorized();
  const user = authenticateToken(sc, m[1]!);
  if (!user) throw errors.unauthorized();
  return impersonate(sc, req, user);
}

/** Impersonate-User / Impersonate-Group (kubectl --as, --as-group), allowed by RBAC's `impersonate` verb. */
function impersonate(sc: ServerContext, req: IncomingMessage, user: UserInfo): UserInfo {
  const as = req.headers['impersonate-user'];
  const asGroups = req.headers['impersonate-group'];
  if (as === undefined && asGroups === undefined) return user;
  const name = String(Array.isArray(as) ? as[0] : (as ?? ''));
  const groups = (Array.isArray(asGroups) ? asGroups : asGroups ? String(asGroups).split(',') : [])
    .map((g) => g.trim())
    .filter(Boolean);
  const sa = parseServiceAccountUsername(name);
  const checks: RequestAttributes[] = [
    sa
      ? {
          user,
          verb: 'impersonate',
          isResourceRequest: true,
          namespace: sa.namespace,
          apiGroup: '',
          resource: 'serviceaccounts',
          name: sa.name,
        }
      : { user, verb: 'impersonate', isResourceRequest: true, apiGroup: '', resource: 'users', name },
    ...groups.map((g): RequestAttributes => ({
      user,
      verb: 'impersonate',
      isResourceRequest: true,
      apiGroup: '',
      resource: 'groups',
      name: g,
    })),
  ];
  for (const a of checks) {
    if (!authorize(sc.rbac, a).allowed)
      throw errors.forbidden(forbiddenMessage(a), { ...(a.name ? { name: a.name } : {}), kind: a.resource ?? '' });
  }
  if (sa)
    return {
      username: name,
      groups: [
        ...new Set([
          ...groups,
          'system:serviceaccounts',
          `system:serviceaccounts:${sa.namespace}`,
          'system:authenticated',
        ]),
      ],
    };
  return { username: name, groups: [...new Set([...groups, 'system:authenticated'])] };
}

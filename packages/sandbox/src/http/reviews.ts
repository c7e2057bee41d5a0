// The virtual, create-only resources: SelfSubjectAccessReview (`kubectl auth can-i`),
// SubjectAccessReview, SelfSubjectRulesReview, TokenReview and SelfSubjectReview
// (`kubectl auth whoami`). Nothing is stored; the answer is the request with a status.
import { errors } from '../errors.js';
import type { UserInfo } from '../auth/user.js';
import { authorize, rulesFor, type RequestAttributes } from '../rbac/evaluate.js';
import { isObj, now, type Obj } from '../storage/objectMeta.js';
import { authenticateToken } from './authn.js';
import type { ApiRequest, ServerContext } from './context.js';
import { parseBody, sendJson } from './respond.js';

function attributesFrom(spec: Obj, user: UserInfo): RequestAttributes | undefined {
  const ra = isObj(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nra = isObj(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if (ra) {
    return {
      user,
      verb: String(ra.verb ?? ''),
      isResourceRequest: true,
      namespace: ra.namespace ? String(ra.namespace) : undefined,
      apiGroup: String(ra.group ?? ''),
      resource: String(ra.resource ?? ''),
      subresource: ra.subresource ? String(ra.subresource) : undefined,
      name: ra.name ? String(ra.name) : undefined,
    };
  }
  if (nra) return { user, verb: String(nra.verb ?? ''), isResourceRequest: false, path: String(nra.path ?? '') };
  return undefined;
}

export async function handleReview(sc: ServerContext, ctx: ApiRequest): Promise<number> {
  const body = await parseBody(ctx.body, ctx.req.headers['content-type']);
  const { def } = ctx;
  const b: Obj = isObj(body) ? body : {};
  const spec: Obj = isObj(b.spec) ? b.spec : {};
  const apiVersion = `${def.group}/${def.version}`;
  const meta = { creationTimestamp: null as unknown };
  const reply = (status: Obj, extra: Obj = {}): number => {
    sendJson(ctx.res, 201, { kind: def.kind, apiVersion, metadata: meta, ...extra, status });
    return 201;
  };
  switch (def.kind) {
    case 'SelfSubjectAccessReview':
    case 'SubjectAccessReview': {
      let user = ctx.user;
      if (def.kind === 'SubjectAccessReview') {
        if (!spec.user && !spec.groups)
          throw errors.invalid(def.kind, def.group, '', [
            {
              type: 'FieldValueInvalid',
              field: 'spec.user',
              value: '',
              detail: 'at least one of user or group must be specified',
            },
          ]);
        user = {
          username: String(spec.user ?? ''),
          groups: Array.isArray(spec.groups) ? (spec.groups as string[]) : [],
          uid: spec.uid as string | undefined,
        };
      }
      const attrs = attributesFrom(spec, user);
      if (!attrs) {
        throw errors.invalid(def.kind, def.group, '', [
          {
            type: 'FieldValueRequired',
            field: 'spec.resourceAttributes',
            detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified',
          },
        ]);
      }
      const d = authorize(sc.rbac, attrs);
      return reply(d.allowed ? { allowed: true, reason: d.reason } : { allowed: false }, { spec });
    }
    case 'SelfSubjectRulesReview': {
      const ns = String(spec.namespace ?? '');
      const rules = rulesFor(sc.rbac, ctx.user, ns);
      const all = ctx.user.groups.includes('system:masters')
        ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]
        : rules.filter((r) => !r.nonResourceURLs?.length);
      return reply(
        {
          resourceRules: all.map((r) => ({
            verbs: r.verbs ?? [],
            apiGroups: r.apiGroups ?? [],
            resources: r.resources ?? [],
            ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
          })),
          nonResourceRules: rules
            .filter((r) => r.nonResourceURLs?.length)
            .map((r) => ({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs ?? [] })),
          incomplete: false,
        },
        { spec },
      );
    }
    case 'TokenReview': {
      const token = String(spec.token ?? '');
      const user = authenticateToken(sc, token);
      return reply(
        user
          ? {
              authenticated: true,
              user,
              audiences: Array.isArray(spec.audiences) ? spec.audiences : [sc.tokens.issuer],
            }
          : { user: {}, error: 'invalid bearer token' },
        { spec },
      );
    }
    case 'SelfSubjectReview':
      meta.creationTimestamp = now();
      return reply({ userInfo: ctx.user });
    default:
      throw errors.methodNotAllowed();
  }
}

import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LongshoreError, isLongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { oidcClientFor } from './oidcClient.js';
import { SIGN_IN_FLOW_MINUTES, beginFlow, takeFlow } from './oidcFlows.js';
import { userForIdentity, type SignedInUser } from './oidcUsers.js';
import { startSession } from './startSession.js';
import { endpointUrl } from '../tls/endpoint.js';

export const SIGN_IN_START_PATH = '/api/sessions/oidc/start';
export const SIGN_IN_CALLBACK_PATH = '/api/sessions/oidc/callback';

/** Binds a sign-in to the browser that started it, so no one can hand another browser a sign-in of theirs. */
const FLOW_COOKIE = 'longshore_sign_in';

const SignInMethods = Type.Object({
  singleSignOn: Type.Union(
    [
      Type.Object({
        label: Type.String({ description: 'The words of the sign-in button: Sign in with <provider>' }),
        startUrl: Type.String({ description: 'Where the button sends the browser; add ?returnTo=<portal path>' }),
      }),
      Type.Null(),
    ],
    { description: 'null: this server has no single sign-on configured' },
  ),
});
const ReturnTo = Type.String({
  maxLength: 2000,
  // A path of this server: '//host' and '/\host' would be read by browsers as another host.
  pattern: '^/(?![/\\\\])[^#\\s\\u0000-\\u001f\\u007f]*$',
  description: 'a path of this server, such as /projects (never another site)',
});
const StartQuery = Type.Object({ returnTo: Type.Optional(ReturnTo) }, { additionalProperties: false });
const CallbackQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ maxLength: 1000 })),
    code: Type.Optional(Type.String({ maxLength: 8000 })),
    error: Type.Optional(Type.String({ maxLength: 1000 })),
    error_description: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  // Providers add parameters of their own (iss, session_state); openid-client reads what it needs.
  { additionalProperties: true },
);
const redirectResponse = (description: string) => ({ 302: Type.Unsafe<undefined>(Type.Null({ description })) });

/**
 * Single sign-on through the OpenID Connect provider the configuration names, for the portal:
 * the authorization code flow with PKCE, state and nonce. The browser goes from `start` to the
 * provider and back to `callback`, which lands it on the portal with a session in the address's
 * fragment (`#session=`), which browsers send to no server and the portal removes at once.
 * Every failure lands it on the portal's sign-in page with what went wrong (`#signin-error=`).
 */
export async function oidcRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['users'];
  const sso = oidcClientFor(ctx.config);
  const portal = (): string => ctx.endpoint.url.replace(/\/+$/, '');
  const redirectUri = (): string => `${portal()}${SIGN_IN_CALLBACK_PATH}`;

  if (sso)
    scope.addHook('onListen', async () => {
      // Before app.ts fills in the endpoint's URL, which happens once listen() returns.
      const url = endpointUrl(ctx.config, scope.server, ctx.endpoint.certificate !== undefined);
      ctx.log.info(
        { issuer: sso.issuer.href, redirectUri: `${url.replace(/\/+$/, '')}${SIGN_IN_CALLBACK_PATH}` },
        'single sign-on: the provider must allow this redirect URI for the client',
      );
      // Discovered now so that a wrong issuer shows in the log at start, not first at someone's sign-in.
      sso.discover().catch((err: unknown) => ctx.log.error({ err }, (err as Error).message));
    });

  const toPortal = (reply: FastifyReply, path: string, fragment: Record<string, string>) =>
    reply
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .redirect(`${portal()}${path}#${new URLSearchParams(fragment).toString()}`, 302);

  const failed = (req: FastifyRequest, reply: FastifyReply, error: unknown) => {
    if (isLongshoreError(error)) req.log.warn({ err: error }, `single sign-on failed: ${error.message}`);
    else req.log.error({ err: error }, 'single sign-on failed');
    const message = isLongshoreError(error) ? error.message : 'Signing in failed; the server log has the details';
    return toPortal(reply, '/', { 'signin-error': message });
  };

  app.get(
    '/api/sessions/methods',
    { config: { access: 'public' }, schema: { tags, response: { 200: SignInMethods } } },
    async () => ({ singleSignOn: sso ? { label: sso.label, startUrl: SIGN_IN_START_PATH } : null }),
  );

  app.get(
    SIGN_IN_START_PATH,
    {
      config: { access: 'public' },
      schema: {
        tags,
        description:
          "Starts a single sign-on: sends the browser to the provider, or back to the portal's sign-in page with what went wrong.",
        querystring: StartQuery,
        response: redirectResponse('To the provider; on failure to the portal, with #signin-error=<message>'),
      },
    },
    async (req, reply) => {
      try {
        if (!sso) throw notConfigured();
        // First, so that a provider that cannot be reached leaves no flow behind.
        await sso.discover();
        const flow = await beginFlow(ctx.db, req.query.returnTo ?? '/');
        const to = await sso.authorizationUrl(flow, redirectUri());
        const callback = new URL(redirectUri());
        const attributes = `Path=${callback.pathname}; Max-Age=${SIGN_IN_FLOW_MINUTES * 60}; HttpOnly; SameSite=Lax`;
        return reply
          .header('set-cookie', `${FLOW_COOKIE}=${flow.state}; ${attributes}${secure(callback)}`)
          .header('cache-control', 'no-store')
          .header('referrer-policy', 'no-referrer')
          .redirect(to.href, 302);
      } catch (error) {
        return failed(req, reply, error);
      }
    },
  );

  app.get(
    SIGN_IN_CALLBACK_PATH,
    {
      config: { access: 'public' },
      schema: {
        tags,
        description:
          'Where the provider sends the browser back: lands it on the portal signed in, or on the sign-in page with what went wrong.',
        querystring: CallbackQuery,
        response: redirectResponse('To the portal with #session=<token>, or with #signin-error=<message>'),
      },
    },
    async (req, reply) => {
      const callback = new URL(redirectUri());
      reply.header(
        'set-cookie',
        `${FLOW_COOKIE}=; Path=${callback.pathname}; Max-Age=0; HttpOnly; SameSite=Lax${secure(callback)}`,
      );
      let signedIn: SignedInUser | undefined;
      try {
        if (!sso) throw notConfigured();
        const { state } = req.query;
        if (!state)
          throw new LongshoreError('UNAUTHENTICATED', 'The sign-in provider sent no state back; sign in again');
        if (cookieValue(req.headers.cookie) !== state)
          throw new LongshoreError(
            'UNAUTHENTICATED',
            'This sign-in was not started in this browser, or another was started since; sign in again',
          );
        const flow = await takeFlow(ctx.db, state);
        const search = new URL(req.url, 'http://callback').search;
        const identity = await sso.identityFrom(new URL(`${callback.href}${search}`), flow);
        signedIn = await userForIdentity(ctx, identity);
        const { user } = signedIn;
        if (user.disabled)
          throw new LongshoreError(
            'UNAUTHENTICATED',
            `User '${user.name}' is disabled; an administrator can enable it (PUT /api/users/{ref})`,
          );
        const { token } = await startSession(ctx, user, req.ip);
        await audit(ctx, req, signedIn, undefined);
        return toPortal(reply, flow.returnTo, { session: token });
      } catch (error) {
        // Only a refusal of someone the provider vouched for is audited: anyone can send a bad state.
        if (signedIn) await audit(ctx, req, signedIn, error);
        return failed(req, reply, error);
      }
    },
  );
}

const notConfigured = () =>
  new LongshoreError(
    'NOT_FOUND',
    'Single sign-on is not configured on this server (oidcIssuer); sign in with your user name and password or an API key',
  );

const secure = (url: URL): string => (url.protocol === 'https:' ? '; Secure' : '');

function cookieValue(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === FLOW_COOKIE) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** A sign-in through the provider, or its refusal, in the audit log (a failure to write it is logged). */
async function audit(ctx: ServerContext, req: FastifyRequest, signedIn: SignedInUser, error: unknown): Promise<void> {
  const { user, created } = signedIn;
  try {
    await ctx.audit.append({
      at: Date.now(),
      actor: user.name,
      actorUserId: user.id,
      via: 'single sign-on',
      address: req.ip,
      action: error === undefined ? 'sign-in' : 'failed sign-in',
      objectKind: 'users',
      object: user.name,
      outcome: error === undefined ? 'ok' : 'failed',
      status: 302,
      changes: null,
      detail:
        error !== undefined
          ? { message: isLongshoreError(error) ? error.message : 'internal error' }
          : created
            ? { createdUser: true, teams: created.teams }
            : null,
    });
  } catch (err) {
    req.log.error({ err }, 'could not write the audit log entry');
  }
}

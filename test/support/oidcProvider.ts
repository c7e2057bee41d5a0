import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

/** Who the provider signs in: the claims its ID token and userinfo endpoint give. */
export interface TestAccount {
  sub: string;
  preferred_username?: string;
  name?: string;
  email?: string;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /**
   * Makes the provider's one client, allowed to send browsers back to `redirectUri`. Until then
   * the provider answers 503: a Longshore server must be listening to know its redirect URI, and
   * it needs the issuer to start.
   */
  allowClient(redirectUri: string): void;
  /** The next sign-ins log in as this account at once (no login page), or are refused (`access_denied`). */
  signInAs(account: TestAccount | 'refuse'): void;
  close(): Promise<void>;
}

/**
 * oidc-provider, in this process on a free loopback port: a real OpenID Connect provider (discovery,
 * keys, authorization, token and userinfo endpoints) whose login and consent finish by themselves.
 */
export async function startOidcProvider(): Promise<TestOidcProvider> {
  const clientId = 'longshore';
  const clientSecret = randomBytes(24).toString('base64url');
  let provider: Provider | undefined;
  let next: TestAccount | 'refuse' = 'refuse';
  const accounts = new Map<string, TestAccount>();

  const interaction = async (p: Provider, req: IncomingMessage, res: ServerResponse) => {
    await p.interactionDetails(req, res);
    const result =
      next === 'refuse'
        ? { error: 'access_denied', error_description: 'The test provider turned you away' }
        : { login: { accountId: next.sub } };
    await p.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  };
  const server = createServer((req, res) => {
    if (!provider) {
      res.writeHead(503).end('no client yet');
      return;
    }
    if (req.url?.startsWith('/interaction/'))
      interaction(provider, req, res).catch((error: unknown) => res.writeHead(500).end(String(error)));
    else void provider.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const configuration = (redirectUri: string): Configuration => ({
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri] }],
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    jwks: {
      keys: [
        {
          ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
          kid: 'test',
          use: 'sig',
          alg: 'RS256',
        },
      ],
    },
    features: { devInteractions: { enabled: false } },
    // Given, so that the provider does not print a notice for each default it falls back on.
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub);
      return account && { accountId: sub, claims: () => ({ ...account }) };
    },
    // Consent is given for the client at once, as a company's own provider does for its own tools.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client!.clientId,
        accountId: ctx.oidc.session!.accountId!,
      });
      grant.addOIDCScope('openid profile email');
      await grant.save();
      return grant;
    },
  });

  return {
    issuer,
    clientId,
    clientSecret,
    allowClient(redirectUri) {
      provider = new Provider(issuer, configuration(redirectUri));
    },
    signInAs(account) {
      next = account;
      if (account !== 'refuse') accounts.set(account.sub, account);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

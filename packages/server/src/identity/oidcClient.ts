import * as oidc from 'openid-client';
import { LongshoreError } from '@longshore/protocol';
import type { ServerConfig } from '../config.js';

/** Each call to the provider (discovery, its keys, the token and userinfo endpoints) ends within this. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/** What the browser carries to the provider and back, and what the server keeps to check the answer. */
export interface AuthorizationChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The identity the provider vouched for: the ID token's claims, with those of the userinfo endpoint. */
export interface ProviderIdentity {
  /** The provider's issuer identifier, as its ID tokens carry it: users are found by it and the subject. */
  issuer: string;
  subject: string;
  claims: Record<string, unknown>;
}

type SsoConfig = ServerConfig & Required<Pick<ServerConfig, 'oidcIssuer' | 'oidcClientId' | 'oidcClientSecret'>>;

/** The configured OpenID Connect provider, or undefined when single sign-on is not configured. */
export function oidcClientFor(config: ServerConfig): OidcClient | undefined {
  const { oidcIssuer, oidcClientId, oidcClientSecret } = config;
  if (oidcIssuer === undefined || oidcClientId === undefined || oidcClientSecret === undefined) return undefined;
  return new OidcClient({ ...config, oidcIssuer, oidcClientId, oidcClientSecret });
}

/**
 * The server as a client of its OpenID Connect provider: openid-client does the protocol (PKCE,
 * state, nonce, and the ID token's signature, issuer, audience and expiry). Discovery happens on
 * first use and is kept; a failed one is not, so the next sign-in tries again. A provider that is
 * down therefore fails sign-ins through it with a message, not the server's start: API keys,
 * passwords and workers go on working.
 */
export class OidcClient {
  readonly issuer: URL;
  /** The button's words on the portal's sign-in page. */
  readonly label: string;
  #configuration: Promise<oidc.Configuration> | undefined;

  constructor(private readonly config: SsoConfig) {
    this.issuer = new URL(config.oidcIssuer);
    this.label = `Sign in with ${config.oidcProviderName ?? this.issuer.hostname}`;
  }

  /** Discovers the provider's endpoints and keys, once. */
  discover(): Promise<oidc.Configuration> {
    this.#configuration ??= this.#discover().catch((error: unknown) => {
      this.#configuration = undefined;
      throw error;
    });
    return this.#configuration;
  }

  async #discover(): Promise<oidc.Configuration> {
    try {
      return await oidc.discovery(this.issuer, this.config.oidcClientId, this.config.oidcClientSecret, undefined, {
        timeout: PROVIDER_TIMEOUT_SECONDS,
        // config.ts allows plain HTTP only for a provider on this machine.
        execute: this.issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      });
    } catch (error) {
      throw new LongshoreError(
        'SIGN_IN_PROVIDER_UNAVAILABLE',
        `The sign-in provider ${this.issuer.href} could not be discovered (${reasonOf(error)}); an administrator should check oidcIssuer`,
        undefined,
        { cause: error },
      );
    }
  }

  /** Where to send the browser: the provider's authorization endpoint, asking for a code. */
  async authorizationUrl(checks: AuthorizationChecks, redirectUri: string): Promise<URL> {
    const configuration = await this.discover();
    return oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: this.config.oidcScopes,
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  /**
   * Checks the provider's answer, trades its code for tokens and reads the claims. `callbackUrl` is
   * the redirect URI with the query the provider sent: the token request repeats the URI without it.
   */
  async identityFrom(callbackUrl: URL, checks: AuthorizationChecks): Promise<ProviderIdentity> {
    const configuration = await this.discover();
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: checks.codeVerifier,
      });
      const idToken = tokens.claims()!;
      const claims: Record<string, unknown> = { ...idToken };
      // Many providers put profile and email claims only at the userinfo endpoint when a code was used.
      if (configuration.serverMetadata().userinfo_endpoint)
        Object.assign(claims, await oidc.fetchUserInfo(configuration, tokens.access_token, idToken.sub), idToken);
      return { issuer: idToken.iss, subject: idToken.sub, claims };
    } catch (error) {
      throw this.#failure(error);
    }
  }

  /** The provider's refusals and failures, in words for the person signing in. */
  #failure(error: unknown): LongshoreError {
    if (error instanceof oidc.AuthorizationResponseError)
      return new LongshoreError(
        'UNAUTHENTICATED',
        `The sign-in provider did not sign you in: ${error.error_description ?? error.error}`,
      );
    if (error instanceof oidc.ResponseBodyError)
      return new LongshoreError(
        'SIGN_IN_PROVIDER_UNAVAILABLE',
        error.error === 'invalid_grant'
          ? 'The sign-in provider no longer accepts this sign-in (it was used or took too long); sign in again'
          : `The sign-in provider refused this server (${error.error}${error.error_description ? `: ${error.error_description}` : ''}); an administrator should check oidcClientId and oidcClientSecret`,
        undefined,
        { cause: error },
      );
    if (error instanceof oidc.ClientError && !PROVIDER_TROUBLE.has(error.code ?? ''))
      return new LongshoreError(
        'UNAUTHENTICATED',
        `The sign-in provider's answer did not pass the checks (${reasonOf(error)}); sign in again`,
        undefined,
        { cause: error },
      );
    return new LongshoreError(
      'SIGN_IN_PROVIDER_UNAVAILABLE',
      `The sign-in provider ${this.issuer.href} could not be reached (${reasonOf(error)}); try again later`,
      undefined,
      { cause: error },
    );
  }
}

/** openid-client's codes for a provider that did not answer, or answered something other than OAuth. */
const PROVIDER_TROUBLE = new Set([
  'OAUTH_TIMEOUT',
  'OAUTH_ABORT',
  'OAUTH_RESPONSE_IS_NOT_CONFORM',
  'OAUTH_RESPONSE_IS_NOT_JSON',
  '',
]);

/** An error's message with its cause's, which says what fetch or a check really met. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
  return cause && cause !== message ? `${message}: ${cause}` : message;
}

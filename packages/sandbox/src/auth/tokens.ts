// Bearer-token authentication. Static tokens (the admin's, the controllers') are looked up in a
// table; ServiceAccount tokens are JWTs the sandbox signs (ES256, like the projected tokens
// kube-apiserver issues) and accepts while the ServiceAccount they name still exists with the
// same uid, the token has not expired and (when bound) its Secret or Pod still exists.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { serviceAccountUser, type UserInfo } from './user.js';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface ServiceAccountClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
  };
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export class TokenAuthority {
  private readonly staticTokens = new Map<string, UserInfo>();
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor(
    readonly issuer = DEFAULT_ISSUER,
    keyPem?: string,
  ) {
    if (keyPem) {
      this.privateKey = createPrivateKey(keyPem);
    } else {
      this.privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    }
    this.publicKey = createPublicKey(this.privateKey);
  }

  addStaticToken(token: string, user: UserInfo): void {
    this.staticTokens.set(token, user);
  }

  staticUser(token: string): UserInfo | undefined {
    return this.staticTokens.get(token);
  }

  issue(opts: {
    namespace: string;
    name: string;
    uid: string;
    audiences: string[];
    expirationSeconds: number;
    now?: number;
    boundPod?: { name: string; uid: string };
    boundSecret?: { name: string; uid: string };
  }): { token: string; claims: ServiceAccountClaims } {
    const now = Math.floor((opts.now ?? Date.now()) / 1000);
    const claims: ServiceAccountClaims = {
      aud: opts.audiences,
      exp: now + opts.expirationSeconds,
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      nbf: now,
      sub: `system:serviceaccount:${opts.namespace}:${opts.name}`,
      'kubernetes.io': {
        namespace: opts.namespace,
        serviceaccount: { name: opts.name, uid: opts.uid },
        ...(opts.boundPod ? { pod: opts.boundPod } : {}),
        ...(opts.boundSecret ? { secret: opts.boundSecret } : {}),
      },
    };
    const header = b64url(JSON.stringify({ alg: 'ES256', kid: 'sandbox' }));
    const payload = b64url(JSON.stringify(claims));
    const sig = sign('sha256', Buffer.from(`${header}.${payload}`), {
      key: this.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return { token: `${header}.${payload}.${b64url(sig)}`, claims };
  }

  /** The claims of a token this authority signed and that has not expired, else undefined. */
  verify(token: string, now = Date.now()): ServiceAccountClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [h, p, s] = parts as [string, string, string];
    let ok = false;
    try {
      ok = verify(
        'sha256',
        Buffer.from(`${h}.${p}`),
        { key: this.publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(s, 'base64url'),
      );
    } catch {
      return undefined;
    }
    if (!ok) return undefined;
    let claims: ServiceAccountClaims;
    try {
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as ServiceAccountClaims;
    } catch {
      return undefined;
    }
    if (claims.iss !== this.issuer || typeof claims.exp !== 'number' || claims.exp * 1000 < now) return undefined;
    return claims;
  }

  userFromClaims(c: ServiceAccountClaims): UserInfo {
    const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${c.jti}`] };
    if (c['kubernetes.io'].pod) {
      extra['authentication.kubernetes.io/pod-name'] = [c['kubernetes.io'].pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [c['kubernetes.io'].pod.uid];
    }
    return serviceAccountUser(
      c['kubernetes.io'].namespace,
      c['kubernetes.io'].serviceaccount.name,
      c['kubernetes.io'].serviceaccount.uid,
      extra,
    );
  }
}

import { X509Certificate, createHash } from 'node:crypto';
import { Agent as HttpsAgent, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect, type TLSSocket } from 'node:tls';
import { LongshoreError, parseCertificateThumbprint, type ParsedThumbprint } from '@longshore/protocol';

/** Which certificates a client accepts from the Longshore server. */
export interface ServerTrust {
  /**
   * Trust exactly the certificate with this thumbprint, whatever its issuer, names or dates: the
   * pin is the server's identity (as an SSH host key is), so the server may be reached by any
   * host name or address. Nothing else is trusted then, not even a CA-signed certificate.
   */
  thumbprint?: string;
  /**
   * PEM of CAs to trust instead of the system's. A certificate in it that the server presents
   * itself is trusted for any host name: a self-signed server certificate is its own CA, and a
   * pod reaches the server under a name the certificate may not carry.
   */
  caPem?: string;
}

/** Hex SHA-256 of a certificate's DER: the thumbprint `longshore server` prints. */
function certificateThumbprint(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('hex');
}

/**
 * An HTTPS agent (keep-alive) that decides itself whether to trust the server, before a request
 * is written to the connection: the TLS handshake runs with Node's own check recorded but not
 * enforced, and the connection is handed to the request only when the rules of ServerTrust
 * allow it. Refusals are LongshoreErrors that name the presented thumbprint, so a user can
 * compare it with the one the server printed.
 */
export class TrustingAgent extends HttpsAgent {
  private readonly pin: ParsedThumbprint | undefined;
  private readonly caThumbprints: Set<string>;
  #certificate: X509Certificate | undefined;

  constructor(
    private readonly serverUrl: string,
    trust: ServerTrust,
  ) {
    super({ keepAlive: true, ...(trust.caPem ? { ca: trust.caPem } : {}) });
    this.pin =
      trust.thumbprint === undefined
        ? undefined
        : parseCertificateThumbprint(trust.thumbprint, 'The server thumbprint');
    this.caThumbprints = new Set(trust.caPem ? pemCertificates(trust.caPem).map((c) => certificateThumbprint(c)) : []);
  }

  /** The certificate the server presented on the last connection this agent trusted. */
  get serverCertificate(): X509Certificate | undefined {
    return this.#certificate;
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = connect({ ...(options as object), rejectUnauthorized: false });
    const fail = (error: Error): void => {
      socket.destroy();
      callback?.(error, socket);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      socket.off('error', fail);
      const refusal = this.refusal(socket);
      if (refusal) return fail(refusal);
      callback?.(null, socket);
    });
    return undefined;
  }

  private refusal(socket: TLSSocket): LongshoreError | undefined {
    const presented = socket.getPeerX509Certificate();
    if (!presented)
      return new LongshoreError(
        'SERVER_CERTIFICATE_UNTRUSTED',
        `The server at ${this.serverUrl} presented no certificate`,
      );
    const thumbprint = certificateThumbprint(presented);
    if (this.pin) {
      const actual =
        this.pin.algorithm === 'sha256' ? thumbprint : createHash('sha1').update(presented.raw).digest('hex');
      if (actual === this.pin.hex) return this.trusted(presented);
      return new LongshoreError(
        'SERVER_CERTIFICATE_MISMATCH',
        `The server at ${this.serverUrl} presented a certificate with thumbprint ${actual}, but the pinned thumbprint is ${this.pin.hex}. ` +
          'Either the URL reaches another server (or a proxy that terminates TLS), or the server has a new certificate: ' +
          "compare with the thumbprint the server printed at start (GET /api/server) and set the pin (--server-thumbprint, LONGSHORE_SERVER_THUMBPRINT, the chart's server.certificateThumbprint) to it",
        { expected: this.pin.hex, presented: actual },
      );
    }
    if (this.caThumbprints.has(thumbprint) || socket.authorized) return this.trusted(presented);
    return new LongshoreError(
      'SERVER_CERTIFICATE_UNTRUSTED',
      `The server at ${this.serverUrl} presented a certificate that is not trusted (${String(socket.authorizationError)}); its thumbprint is ${thumbprint}. ` +
        'A Longshore server with its own self-signed certificate must be pinned: compare that thumbprint with the one the server printed at start, ' +
        "then pass it as --server-thumbprint (LONGSHORE_SERVER_THUMBPRINT; the chart's server.certificateThumbprint); or give the server a certificate from a CA this machine trusts",
      { presented: thumbprint, reason: String(socket.authorizationError) },
    );
  }

  private trusted(presented: X509Certificate): undefined {
    this.#certificate = presented;
    return undefined;
  }
}

function pemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch (error) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `The server's CA certificate is not valid PEM: ${(error as Error).message}`,
    );
  }
}

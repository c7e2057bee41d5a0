import { isIP, type AddressInfo, type Server } from 'node:net';
import { hostname } from 'node:os';
import type { ServerCertificate } from './serverCertificate.js';

/** How workers and clients reach this server. */
export interface ServerEndpoint {
  /** publicUrl, else the listen address; filled in once the server listens (before any request). */
  url: string;
  /** Absent when the server serves plain HTTP. */
  certificate?: ServerCertificate;
}

/**
 * The URL a listen address is reached at: a wildcard host means every interface, of which the
 * machine's name is the one others are likeliest to resolve.
 */
export function listenUrl(host: string, port: number, https: boolean): string {
  const name = host === '0.0.0.0' || host === '::' || host === '' ? hostname() : host;
  return `${https ? 'https' : 'http'}://${isIP(name) === 6 ? `[${name}]` : name}:${port}`;
}

/** publicUrl, else the URL of the address `server` listens at. */
export function endpointUrl(
  config: { publicUrl?: string | undefined; host: string },
  server: Server,
  https: boolean,
): string {
  return config.publicUrl ?? listenUrl(config.host, (server.address() as AddressInfo).port, https);
}

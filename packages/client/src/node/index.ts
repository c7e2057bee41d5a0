// Node only: the certificate pinning that a browser leaves to its own trust store. The worker's
// channel uses ServerTransport directly; a LongshoreClient is given pinnedFetch.
export { pinnedFetch, type PinnedFetch } from './pinnedFetch.js';
export { ServerTransport, type ServerRequest, type ServerTransportOptions } from './serverTransport.js';
export type { ServerTrust } from './serverTrust.js';

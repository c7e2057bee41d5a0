// A light entry point for clients of the Longshore server (the CLI's client verbs): it loads no
// Kubernetes client, unlike the worker's index.
export { ServerTransport, type ServerRequest, type ServerTransportOptions } from './serverTransport.js';
export type { ServerTrust } from './serverTrust.js';

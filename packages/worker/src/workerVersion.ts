import { LONGSHORE_VERSION } from '@longshore/protocol';

/**
 * The version this worker reports, which the server compares with the version it ships to offer
 * and verify upgrades: the build's own, unless its image's environment names another
 * (LONGSHORE_VERSION, as node's images carry NODE_VERSION). The sandbox cluster's image table
 * uses that to stand one build in for several worker images.
 */
export const WORKER_VERSION = process.env.LONGSHORE_VERSION || LONGSHORE_VERSION;

// The hook through which the sandbox (packages/sandbox, not written yet) joins the differential
// suite. When it exists, start it in optionalSandbox() and return its endpoint, e.g.
//   const { startSandboxEndpoint } = await import('@longshore/sandbox/testing');
//   return await startSandboxEndpoint();   // { server, caPem, adminToken, compactHistory, stop }
// Nothing else in test/control-plane/differential/ has to change.
// Until then, LONGSHORE_DIFFERENTIAL_ENDPOINT may name a JSON file { server, caPem, adminToken }
// of an already running API server (a `longshore sandbox`, a kind cluster...) to compare instead;
// without it optionalSandbox() returns undefined and the suite runs against the reference alone.
import { readFileSync } from 'node:fs';
import type { ClusterEndpoint } from './cluster.js';

export interface StartedEndpoint extends ClusterEndpoint {
  stop(): Promise<void>;
}

export class EndpointConfigError extends Error {
  override readonly name = 'EndpointConfigError';
}

export async function optionalSandbox(): Promise<StartedEndpoint | undefined> {
  const file = process.env.LONGSHORE_DIFFERENTIAL_ENDPOINT;
  if (!file) return undefined;
  let ep: Partial<ClusterEndpoint>;
  try {
    ep = JSON.parse(readFileSync(file, 'utf8')) as Partial<ClusterEndpoint>;
  } catch (err) {
    throw new EndpointConfigError(`LONGSHORE_DIFFERENTIAL_ENDPOINT=${file}: ${String(err)}`, { cause: err });
  }
  if (typeof ep.server !== 'string' || typeof ep.caPem !== 'string' || typeof ep.adminToken !== 'string') {
    throw new EndpointConfigError(`LONGSHORE_DIFFERENTIAL_ENDPOINT=${file}: want { "server", "caPem", "adminToken" } strings`);
  }
  // Not ours to stop; without compactHistory the 'gone' step records whatever the server answers.
  return { server: ep.server, caPem: ep.caPem, adminToken: ep.adminToken, stop: async () => {} };
}

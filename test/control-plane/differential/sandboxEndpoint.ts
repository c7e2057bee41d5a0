// The hook through which the sandbox (packages/sandbox) joins the differential suite:
// optionalSandbox() starts one in-process and returns its endpoint (compactHistory drops its
// event log). LONGSHORE_DIFFERENTIAL_ENDPOINT=<json file> { server, caPem, adminToken } compares
// an already running API server instead (a `longshore sandbox`, a kind cluster...), and
// LONGSHORE_DIFFERENTIAL_ENDPOINT=none runs the suite against the reference alone.
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
  if (file === 'none') return undefined;
  if (!file) {
    const { startSandbox } = await import('@longshore/sandbox');
    const sb = await startSandbox();
    return {
      server: sb.server,
      caPem: sb.caPem,
      adminToken: sb.adminToken,
      compactHistory: () => sb.compactHistory(),
      stop: () => sb.stop(),
    };
  }
  let ep: Partial<ClusterEndpoint>;
  try {
    ep = JSON.parse(readFileSync(file, 'utf8')) as Partial<ClusterEndpoint>;
  } catch (err) {
    throw new EndpointConfigError(`LONGSHORE_DIFFERENTIAL_ENDPOINT=${file}: ${String(err)}`, { cause: err });
  }
  if (typeof ep.server !== 'string' || typeof ep.caPem !== 'string' || typeof ep.adminToken !== 'string') {
    throw new EndpointConfigError(
      `LONGSHORE_DIFFERENTIAL_ENDPOINT=${file}: want { "server", "caPem", "adminToken" } strings`,
    );
  }
  // Not ours to stop; without compactHistory the 'gone' step records whatever the server answers.
  return { server: ep.server, caPem: ep.caPem, adminToken: ep.adminToken, stop: async () => {} };
}

// Server-side validation of the objects Longshore creates: render a chart with the real
// `helm template`, find each document's resource through API discovery (so any kind the
// apiserver serves works, no hand-kept table) and create it with dryRun=All.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { longshoreCacheDir } from '../referenceCluster.js';
import { apiRequest, type ApiResponse, type ClusterEndpoint } from './cluster.js';

const run = promisify(execFile);

export type ManifestErrorCode = 'HELM_FAILED' | 'BAD_YAML' | 'NOT_AN_OBJECT' | 'UNKNOWN_KIND' | 'DISCOVERY_FAILED';

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(
    readonly code: ManifestErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** helm from scripts/install-kube-clients.sh (same cache dir and overrides), or undefined. */
export function helmPath(): string | undefined {
  const dir =
    process.env.LONGSHORE_KUBE_CLIENTS_BIN ||
    join(longshoreCacheDir(), 'kube-clients', process.env.LONGSHORE_KUBECTL_LAYER_VERSION || '2.1.0');
  const p = join(dir, 'helm');
  return existsSync(p) ? p : undefined;
}

/** Parses multi-document YAML; empty documents (templates that rendered nothing) are dropped. */
export function parseManifests(text: string, source: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length)
      throw new ManifestError('BAD_YAML', `${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const m = value as Partial<Manifest>;
    if (
      typeof m !== 'object' ||
      typeof m.apiVersion !== 'string' ||
      typeof m.kind !== 'string' ||
      typeof m.metadata !== 'object'
    ) {
      throw new ManifestError(
        'NOT_AN_OBJECT',
        `${source}: a document without apiVersion/kind/metadata: ${JSON.stringify(value).slice(0, 200)}`,
      );
    }
    out.push(m as Manifest);
  }
  return out;
}

/** `helm template <release> <chartDir> --namespace <ns> [-f values]...`, parsed. */
export async function renderChart(
  helm: string,
  chartDir: string,
  opts: { release: string; namespace: string; valuesFiles?: string[] },
): Promise<Manifest[]> {
  const args = [
    'template',
    opts.release,
    chartDir,
    '--namespace',
    opts.namespace,
    ...(opts.valuesFiles ?? []).flatMap((f) => ['-f', f]),
  ];
  let stdout: string;
  try {
    ({ stdout } = await run(helm, args, { timeout: 30_000, maxBuffer: 16 << 20 }));
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    throw new ManifestError('HELM_FAILED', `helm ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
  }
  return parseManifests(stdout, `helm template ${chartDir}`);
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** Maps apiVersion+kind to the REST path through discovery (/api/v1, /apis/<group>/<version>). */
export class Discovery {
  private readonly cache = new Map<string, Promise<ApiResource[]>>();
  constructor(private readonly ep: ClusterEndpoint) {}

  private resources(apiVersion: string): Promise<ApiResource[]> {
    let p = this.cache.get(apiVersion);
    if (!p) {
      p = apiRequest(this.ep, { path: apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}` }).then(
        (res) => {
          if (res.status !== 200)
            throw new ManifestError(
              'DISCOVERY_FAILED',
              `discovery of ${apiVersion}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
            );
          return (res.body as { resources: ApiResource[] }).resources.filter((r) => !r.name.includes('/')); // drop subresources
        },
      );
      this.cache.set(apiVersion, p);
    }
    return p;
  }

  /** Collection path for a manifest (namespace from the manifest, else `namespace`). */
  async collectionPath(m: Manifest, namespace: string): Promise<string> {
    const r = (await this.resources(m.apiVersion)).find((x) => x.kind === m.kind);
    if (!r) throw new ManifestError('UNKNOWN_KIND', `the server serves no ${m.kind} in ${m.apiVersion}`);
    const base = m.apiVersion.includes('/') ? `/apis/${m.apiVersion}` : `/api/${m.apiVersion}`;
    return r.namespaced ? `${base}/namespaces/${m.metadata.namespace ?? namespace}/${r.name}` : `${base}/${r.name}`;
  }
}

/** Creates the object with dryRun=All (nothing persists) and fieldValidation=Strict, so an
 *  unknown or duplicated field — a typo in a template — is a rejection too. */
export async function dryRunCreate(
  ep: ClusterEndpoint,
  discovery: Discovery,
  m: Manifest,
  namespace: string,
): Promise<ApiResponse> {
  const path = await discovery.collectionPath(m, namespace);
  return apiRequest(ep, { method: 'POST', path: `${path}?dryRun=All&fieldValidation=Strict`, body: m });
}

/** One line per rejection: "Kind/name: 422 Invalid: message", for assertion messages. */
export function describeRejection(m: Manifest, res: ApiResponse): string {
  const b = res.body as { reason?: string; message?: string } | string;
  return `${m.kind}/${m.metadata.name ?? '?'}: ${res.status} ${typeof b === 'string' ? b.slice(0, 300) : `${b.reason ?? ''}: ${b.message ?? ''}`}`;
}

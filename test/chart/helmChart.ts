// Runs the real helm against the charts (charts/longshore-worker unless told) and checks what it renders against the
// Kubernetes schema (kubernetes-models), for test/chart/*.test.ts.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parse as parseYaml } from 'yaml';
import { helmPath, parseManifests, type Manifest } from '../control-plane/differential/manifests.js';

export type { Manifest };

export const CHART = fileURLToPath(new URL('../../charts/longshore-worker', import.meta.url));
export const SERVER_CHART = fileURLToPath(new URL('../../charts/longshore-server', import.meta.url));
export const CI_VALUES = {
  default: `${CHART}/ci/default-values.yaml`,
  full: `${CHART}/ci/full-values.yaml`,
} as const;
export const RELEASE = 'rel';
export const NAMESPACE = 'deploy-workers';

export const helm = helmPath();
export const noHelm: string | false = helm ? false : 'helm not installed: run `bash scripts/install-kube-clients.sh`';

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runHelm(args: string[]): Promise<HelmResult> {
  if (!helm) throw new Error('helm is not installed');
  try {
    const { stdout, stderr } = await promisify(execFile)(helm, args, { timeout: 60_000, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
  }
}

/** `helm template` (test hooks included, as `helm install` creates them for `helm test`); extra args such as --set. */
export async function renderChart(valuesFile: string, extra: string[] = [], chart = CHART): Promise<Manifest[]> {
  const r = await runHelm(['template', RELEASE, chart, '--namespace', NAMESPACE, '-f', valuesFile, ...extra]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseManifests(r.stdout, `helm template ${chart}`);
}

export function readYaml<T = Record<string, unknown>>(path: string): T {
  return parseYaml(readFileSync(path, 'utf8')) as T;
}

/** The one document of this kind and name; fails with what was rendered instead. */
export function find<T = Record<string, unknown>>(docs: Manifest[], kind: string, name: string): Manifest & T {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!doc)
    throw new Error(`no ${kind}/${name} rendered; got ${docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return doc as Manifest & T;
}

type Model = new (data: unknown) => { validate(): void };
const MODELS: Record<string, Model> = {
  'apps/v1/Deployment': Deployment as unknown as Model,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as Model,
  'rbac.authorization.k8s.io/v1/Role': Role as unknown as Model,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding as unknown as Model,
  'v1/ConfigMap': ConfigMap as unknown as Model,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim as unknown as Model,
  'v1/Pod': Pod as unknown as Model,
  'v1/Secret': Secret as unknown as Model,
  'v1/Service': Service as unknown as Model,
  'v1/ServiceAccount': ServiceAccount as unknown as Model,
};

/** Problems of one document against the Kubernetes schema; an unexpected kind is one too. */
export function schemaProblems(
  doc: Manifest | { apiVersion?: string; kind?: string; metadata?: { name?: string } },
): string[] {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const Model = MODELS[key];
  if (!Model) return [`${key}: not a kind this chart is expected to render`];
  try {
    new Model(doc).validate();
    return [];
  } catch (error) {
    return [`${doc.kind}/${doc.metadata?.name}: ${(error as Error).message}`];
  }
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** A label selector as Kubernetes evaluates it (a Service's plain map is matchLabels). */
export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    byLabels &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const value = labels[key];
      if (operator === 'Exists') return value !== undefined;
      if (operator === 'DoesNotExist') return value === undefined;
      if (operator === 'In') return value !== undefined && values.includes(value);
      return value === undefined || !values.includes(value);
    })
  );
}

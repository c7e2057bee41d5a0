import type { KubernetesTarget, Operation } from '@longshore/protocol';
import { BOOTSTRAP_FILE, BOOTSTRAP_SCRIPT } from './bootstrap/bootstrapScript.js';
import { SCRIPT_FUNCTIONS, SCRIPT_FUNCTIONS_FILE } from './bootstrap/scriptFunctions.js';

/**
 * The files an operation's bootstrap reads, by name. The Kubernetes executor puts this same map
 * into a Secret, so every name is a valid Secret key ([-._a-zA-Z0-9]+) and the whole map must
 * stay under a Secret's 1 MiB.
 */
export type WorkspaceFiles = Record<string, string>;

export interface WorkspaceContext {
  workerName: string;
  serverUrl: string;
}

export const SYSTEM_VARIABLES = {
  workerName: 'Longshore.Worker.Name',
  serverUrl: 'Longshore.Server.Url',
} as const;

/** Pure: the operation in, the workspace out. Sensitive values go to sensitive.sh and masks only. */
export function stageWorkspace(operation: Operation, context: WorkspaceContext): WorkspaceFiles {
  // Last definition of a name wins; the worker's own facts win over anything the step sends.
  const variables = new Map<string, { value: string; sensitive: boolean }>();
  for (const v of operation.variables) variables.set(v.name, { value: v.value, sensitive: v.sensitive });
  variables.set(SYSTEM_VARIABLES.workerName, { value: context.workerName, sensitive: false });
  variables.set(SYSTEM_VARIABLES.serverUrl, { value: context.serverUrl, sensitive: false });

  const plain: [string, string][] = [];
  const sensitive: [string, string][] = [];
  for (const [name, { value, sensitive: isSensitive }] of variables)
    (isSensitive ? sensitive : plain).push([name, value]);

  const files: WorkspaceFiles = {
    [BOOTSTRAP_FILE]: BOOTSTRAP_SCRIPT,
    [SCRIPT_FUNCTIONS_FILE]: SCRIPT_FUNCTIONS,
    script: operation.script.body,
    'variables.sh': lookupFunction('__longshore_variable', plain),
    'sensitive.sh': lookupFunction('__longshore_sensitive_variable', sensitive),
  };
  const kubernetes = kubernetesTarget(operation);
  if (kubernetes) files.kubeconfig = kubeconfig(kubernetes);
  files.masks = maskLines(operationSecrets(operation));
  return files;
}

/** Every value of the operation that must never show in a log: sensitive variables, the target's token. */
export function operationSecrets(operation: Operation): string[] {
  const secrets = operation.variables.filter((v) => v.sensitive).map((v) => v.value);
  const kubernetes = kubernetesTarget(operation);
  if (kubernetes) secrets.push(kubernetes.token);
  return secrets;
}

function kubernetesTarget(operation: Operation): KubernetesTarget | undefined {
  return operation.target?.type === 'kubernetes-cluster' ? operation.target.kubernetes : undefined;
}

/** Quotes a string for sh: inside single quotes nothing is special but the quote itself. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * A function that prints a variable's value by name. A case statement rather than shell
 * variables: names may hold any character, and nothing lands in the environment, where a
 * sensitive value would show in `env` and in /proc.
 */
function lookupFunction(functionName: string, entries: readonly [string, string][]): string {
  const arms = entries.map(([name, value]) => `    ${shellQuote(name)}) printf '%s\\n' ${shellQuote(value)} ;;\n`);
  return `${functionName}() {\n  case $1 in\n${arms.join('')}    *) return 1 ;;\n  esac\n}\n`;
}

/**
 * One secret per line, multi-line secrets split into their lines, as makeMasker does: output is
 * masked a line at a time.
 */
function maskLines(secrets: readonly string[]): string {
  const lines = new Set<string>();
  for (const secret of secrets) for (const line of secret.split(/\r?\n/)) if (line.length > 0) lines.add(line);
  return [...lines].map((line) => `${line}\n`).join('');
}

/** JSON is YAML, so kubectl and client libraries read it without a YAML writer here. */
function kubeconfig(target: KubernetesTarget): string {
  const cluster: Record<string, unknown> = { server: target.apiUrl };
  if (target.caCertificate) {
    // Accept a PEM or the base64 of one, as users paste either.
    cluster['certificate-authority-data'] = target.caCertificate.includes('-----BEGIN')
      ? Buffer.from(target.caCertificate, 'utf8').toString('base64')
      : target.caCertificate.replace(/\s+/g, '');
  }
  if (target.skipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'target', cluster }],
    users: [{ name: 'target', user: { token: target.token } }],
    contexts: [{ name: 'target', context: { cluster: 'target', user: 'target', namespace: target.namespace } }],
    'current-context': 'target',
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

// The sandbox's configuration: one schema, parsed once at start (`longshore sandbox --config
// sandbox.yaml`). Unknown keys and wrong types are refused with the path and what is expected,
// because a typo silently ignored is a sandbox that does not do what its user thinks.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SandboxError } from '../errors.js';
import { DEFAULT_CLUSTER, parseClusterConfig, type ClusterConfig } from './clusterConfig.js';

export interface StaticTokenConfig {
  token: string;
  user: string;
  groups?: string[];
}

export interface ControllersConfig {
  deployments: boolean;
  replicaSets: boolean;
  serviceAccounts: boolean;
  garbageCollector: boolean;
  namespaces: boolean;
  rootCaPublisher: boolean;
  /** Endpoints and EndpointSlices of Services with a selector. */
  endpoints: boolean;
}

export interface SandboxConfig {
  /** Address to listen on. Default 127.0.0.1 (the sandbox is for one machine). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Where the kubeconfig is written; default a fresh temporary directory. */
  kubeconfigPath?: string;
  /** Name of the cluster/context/user in the kubeconfig. Default "longshore-sandbox". */
  contextName: string;
  /** The admin's bearer token (group system:masters); default random. */
  adminToken?: string;
  /** More static tokens (e.g. a CI user with no group, to test RBAC). */
  tokens: StaticTokenConfig[];
  /** Writes remembered for watch resume; a watch from an older resourceVersion answers 410. */
  historySize: number;
  /** How often a watch with allowWatchBookmarks=true gets a BOOKMARK (kube-apiserver: ~1 min). */
  bookmarkIntervalMs: number;
  /** Extra names/IPs for the serving certificate (when clients reach it by another name). */
  certificateHosts: string[];
  controllers: ControllersConfig;
  /** Scheduler, virtual nodes, node groups and images (see clusterConfig.ts). */
  cluster: ClusterConfig;
}

export const DEFAULT_CONFIG: SandboxConfig = {
  host: '127.0.0.1',
  port: 0,
  contextName: 'longshore-sandbox',
  tokens: [],
  historySize: 20_000,
  bookmarkIntervalMs: 60_000,
  certificateHosts: [],
  controllers: {
    deployments: true,
    replicaSets: true,
    serviceAccounts: true,
    garbageCollector: true,
    namespaces: true,
    rootCaPublisher: true,
    endpoints: true,
  },
  cluster: DEFAULT_CLUSTER,
};

type Raw = Record<string, unknown>;
const fail = (path: string, want: string, got: unknown): never => {
  throw new SandboxError('CONFIG_INVALID', `sandbox config: ${path} must be ${want}, got ${JSON.stringify(got)}`);
};

function checkKeys(o: Raw, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k))
      throw new SandboxError(
        'CONFIG_INVALID',
        `sandbox config: unknown key ${path ? `${path}.` : ''}${k} (known: ${allowed.join(', ')})`,
      );
  }
}

const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates a partial configuration (from YAML or code) and fills in the defaults. */
export function parseSandboxConfig(input: unknown): SandboxConfig {
  if (input === undefined || input === null) return structuredClone(DEFAULT_CONFIG);
  if (!isObj(input)) return fail('(root)', 'a mapping', input);
  checkKeys(
    input,
    [
      'host',
      'port',
      'kubeconfigPath',
      'contextName',
      'adminToken',
      'tokens',
      'historySize',
      'bookmarkIntervalMs',
      'certificateHosts',
      'controllers',
      'cluster',
    ],
    '',
  );
  const c = structuredClone(DEFAULT_CONFIG);
  const str = (k: string): string | undefined => {
    const v = input[k];
    if (v === undefined) return undefined;
    return typeof v === 'string' && v !== '' ? v : fail(k, 'a non-empty string', v);
  };
  const int = (k: string, min: number, max: number): number | undefined => {
    const v = input[k];
    if (v === undefined) return undefined;
    return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? v
      : fail(k, `an integer from ${min} to ${max}`, v);
  };
  c.host = str('host') ?? c.host;
  c.port = int('port', 0, 65535) ?? c.port;
  c.kubeconfigPath = str('kubeconfigPath');
  c.contextName = str('contextName') ?? c.contextName;
  c.adminToken = str('adminToken');
  if (c.adminToken !== undefined && c.adminToken.length < 16)
    fail('adminToken', 'at least 16 characters (it grants everything)', '<redacted>');
  c.historySize = int('historySize', 100, 10_000_000) ?? c.historySize;
  c.bookmarkIntervalMs = int('bookmarkIntervalMs', 100, 3_600_000) ?? c.bookmarkIntervalMs;
  if (input.certificateHosts !== undefined) {
    if (!Array.isArray(input.certificateHosts) || input.certificateHosts.some((h) => typeof h !== 'string'))
      fail('certificateHosts', 'a list of strings', input.certificateHosts);
    c.certificateHosts = input.certificateHosts as string[];
  }
  if (input.tokens !== undefined) {
    if (!Array.isArray(input.tokens)) fail('tokens', 'a list', input.tokens);
    c.tokens = (input.tokens as unknown[]).map((t, i) => {
      if (!isObj(t)) return fail(`tokens[${i}]`, 'a mapping with token and user', t);
      checkKeys(t, ['token', 'user', 'groups'], `tokens[${i}]`);
      if (typeof t.token !== 'string' || t.token.length < 8)
        fail(`tokens[${i}].token`, 'a string of at least 8 characters', '<redacted>');
      if (typeof t.user !== 'string' || !t.user) fail(`tokens[${i}].user`, 'a non-empty string', t.user);
      if (t.groups !== undefined && (!Array.isArray(t.groups) || t.groups.some((g) => typeof g !== 'string')))
        fail(`tokens[${i}].groups`, 'a list of strings', t.groups);
      return {
        token: t.token as string,
        user: t.user as string,
        ...(t.groups ? { groups: t.groups as string[] } : {}),
      };
    });
  }
  if (input.controllers !== undefined) {
    if (!isObj(input.controllers)) fail('controllers', 'a mapping of controller name to true/false', input.controllers);
    const ctl = input.controllers as Raw;
    checkKeys(ctl, Object.keys(DEFAULT_CONFIG.controllers), 'controllers');
    for (const [k, v] of Object.entries(ctl)) {
      if (typeof v !== 'boolean') fail(`controllers.${k}`, 'true or false', v);
      (c.controllers as unknown as Record<string, boolean>)[k] = v as boolean;
    }
  }
  c.cluster = parseClusterConfig(input.cluster);
  return c;
}

export function loadSandboxConfig(file: string): SandboxConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SandboxError('CONFIG_INVALID', `sandbox config: cannot read ${file}: ${String(err)}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new SandboxError('CONFIG_INVALID', `sandbox config: ${file} is not valid YAML: ${String(err)}`, {
      cause: err,
    });
  }
  return parseSandboxConfig(raw);
}

/** The configuration with secrets replaced, for logging. */
export function redactConfig(c: SandboxConfig): SandboxConfig {
  return {
    ...c,
    ...(c.adminToken ? { adminToken: '<redacted>' } : {}),
    tokens: c.tokens.map((t) => ({ ...t, token: '<redacted>' })),
  };
}

import type { ExecutorKind } from '@longshore/protocol';
import type { WorkerConfig } from '../workerConfig.js';
import type { ExecutorDependencies, ExecutorParts, ExecutorProvider } from './executorProvider.js';
import { kubernetesExecutorProvider } from './kubernetes/kubernetesProvider.js';
import { localExecutorProvider } from './local/localProvider.js';

/** Every executor a worker can run, by kind: a new one is its folder and a line here. */
const PROVIDERS = {
  local: localExecutorProvider,
  kubernetes: kubernetesExecutorProvider,
} satisfies { [K in ExecutorKind]: { kind: K } };

type SettingsOf<P> = P extends ExecutorProvider<ExecutorKind, infer Settings> ? Settings : never;

/** Each executor's own settings, by kind; only the chosen executor's are read. */
export type ExecutorSettings = { [K in ExecutorKind]?: SettingsOf<(typeof PROVIDERS)[K]> };

/** The executor config.executor names (default local), made by its provider. */
export function createExecutor(
  config: WorkerConfig,
  dependencies: Omit<ExecutorDependencies<never>, 'settings'>,
  settings: ExecutorSettings = {},
): Promise<ExecutorParts> {
  const kind = config.executor ?? 'local';
  // Settings and provider are looked up by the same kind, which the compiler cannot follow.
  const provider = PROVIDERS[kind] as ExecutorProvider<ExecutorKind, unknown>;
  return provider.create(config, { ...dependencies, settings: settings[kind] });
}

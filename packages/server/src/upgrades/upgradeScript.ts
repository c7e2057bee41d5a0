import type { ValueMigration } from './shippedChart.js';

/** The output variable an upgrade that did not take sets: the task's error, in a sentence. */
export const UPGRADE_FAILURE_VARIABLE = 'UpgradeFailure';
/** Where the upgrade operation's package, the chart archive, is extracted (`packages/<reference>`). */
export const CHART_PACKAGE_REFERENCE = 'worker-chart';

export interface UpgradePlan {
  release: string;
  namespace: string;
  chartName: string;
  fromChart: string;
  toChart: string;
  fromWorker: string;
  toWorker: string;
  readyTimeoutSeconds: number;
  /** The chart's migrations newer than the release's chart, in order. */
  migrations: readonly ValueMigration[];
}

/** Single-quoted for sh: nothing inside is expanded. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const jqPath = (dotted: string) => JSON.stringify(dotted.split('.'));

/**
 * The jq program that turns the release's own values (`helm get values -o json`, `null` when it
 * has none) into the values the new chart is given: each migration's moves and removals, then the
 * worker image's tag, when the release pins one, set to the new version (a pinned tag would
 * otherwise keep the old worker under the new chart).
 */
export function valuesProgram(migrations: readonly ValueMigration[], workerVersion: string): string {
  const steps = ['(. // {})'];
  for (const m of migrations) {
    for (const { from, to } of m.move ?? [])
      steps.push(
        `(if getpath(${jqPath(from)}) != null then setpath(${jqPath(to)}; getpath(${jqPath(from)})) | delpaths([${jqPath(from)}]) else . end)`,
      );
    for (const path of m.remove ?? []) steps.push(`delpaths([${jqPath(path)}])`);
  }
  steps.push(`(if (.image.tag? // "") != "" then .image.tag = ${JSON.stringify(workerVersion)} else . end)`);
  return steps.join(' | ');
}

/**
 * The script of an upgrade operation, run in the worker-tools image (sh, helm, kubectl, jq) under
 * the chart's upgrader ServiceAccount. `helm upgrade --wait` is the reconnect check: the worker's
 * readiness probe passes only once it is registered and its server answers. When it does not
 * pass in time the release goes back to the revision before (`helm rollback --wait`), whose
 * worker resumes this very pod and reports it failed, with the reason in UPGRADE_FAILURE_VARIABLE.
 * The values file holds the release's values (a registration token among them): it stays in
 * the pod's working directory and is never printed.
 */
export function upgradeScript(plan: UpgradePlan): string {
  const timeout = `${plan.readyTimeoutSeconds}s`;
  const migrationLines = plan.migrations.map(
    (m) => `echo ${quote(`Values migrated for chart ${m.since}: ${m.reason}`)}`,
  );
  return [
    'set -eu',
    `release=${quote(plan.release)}`,
    `namespace=${quote(plan.namespace)}`,
    `chart=${quote(`packages/${CHART_PACKAGE_REFERENCE}/${plan.chartName}`)}`,
    `timeout=${quote(timeout)}`,
    `selector="app.kubernetes.io/instance=$release,app.kubernetes.io/component=worker"`,
    `echo ${quote(`Upgrading Helm release ${plan.release} in namespace ${plan.namespace}: chart ${plan.fromChart} -> ${plan.toChart}, worker ${plan.fromWorker} -> ${plan.toWorker}`)}`,
    'umask 077',
    // helm and kubectl keep caches under HOME, which an image's user may not be able to write.
    'export HOME="$PWD/home"',
    'mkdir -p "$HOME"',
    'helm get values "$release" --namespace "$namespace" --output json > current-values.json',
    `jq ${quote(valuesProgram(plan.migrations, plan.toWorker))} current-values.json > values.json`,
    ...migrationLines,
    'echo "Running helm upgrade with the release\'s own values; waiting up to $timeout for the new worker to be ready"',
    // --hide-notes: the chart's notes are for a person installing it, not this log (helm 3.16 and later; the worker-tools image has 3.17).
    'if helm upgrade "$release" "$chart" --namespace "$namespace" --values values.json --wait --timeout "$timeout" --hide-notes; then',
    `  echo ${quote(`The new worker is ready: release ${plan.release} runs chart ${plan.toChart}`)}`,
    '  exit 0',
    'fi',
    // What the worker pods show is the reason a person needs: a crash loop, an image that does not pull.
    'pods=$(timeout 20 kubectl get pods --namespace "$namespace" -l "$selector" -o jsonpath=\'{range .items[*]}{.metadata.name}{":"}{range .status.containerStatuses[*]}{" "}{.state.waiting.reason}{.state.terminated.reason}{" (restarts "}{.restartCount}{", last exit code "}{.lastState.terminated.exitCode}{")"}{end}{"; "}{end}\' 2>/dev/null | sed \'s/; $//\' || true)',
    'echo "The new worker did not become ready within $timeout. Worker pods: ${pods:-none found}"',
    'echo "Its last output:"',
    // Bounded: what explains the failure must never keep the rollback from happening. With
    // timeout(1), not --request-timeout: kubectl takes any such flag as a configuration of its own
    // and then no longer uses the pod's in-cluster one (it dials localhost:8080).
    'timeout 20 kubectl logs --namespace "$namespace" -l "$selector" --tail 20 --previous 2>/dev/null || timeout 20 kubectl logs --namespace "$namespace" -l "$selector" --tail 20 || true',
    'echo "Rolling back release $release to its previous revision"',
    'if helm rollback "$release" --namespace "$namespace" --wait --timeout "$timeout"; then',
    `  set_longshore_variable ${UPGRADE_FAILURE_VARIABLE} "the worker on chart ${plan.toChart} did not become ready within $timeout (\${pods:-no worker pod found}); rolled back to chart ${plan.fromChart}"`,
    'else',
    `  set_longshore_variable ${UPGRADE_FAILURE_VARIABLE} "the worker on chart ${plan.toChart} did not become ready within $timeout (\${pods:-no worker pod found}), and the rollback to chart ${plan.fromChart} failed too: run helm history $release -n $namespace"`,
    'fi',
    'exit 1',
  ].join('\n');
}

// The worker's Role is exactly the calls the worker makes (GitLab marks each Kubernetes call with
// the RBAC it needs; we check it). WORKER_RULES is the list the worker declares once
// (executors/kubernetes/workerPermissions.ts, which its health check asks the API server about);
// the rendered Role must grant the same rights, and every call found in the worker's sources must
// be allowed by it.
// Run: node --conditions=source --import tsx --test test/chart/workerRole.test.ts
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { WORKER_RULES, type PermissionRule } from '@longshore/worker';
import { CI_VALUES, RELEASE, find, noHelm, renderChart } from './helmChart.js';

/** Every single right the rules grant, as `group resource verb`, sorted. */
function rights(rules: readonly PermissionRule[]): string[] {
  const all = rules.flatMap((r) =>
    r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g || 'core'} ${res} ${v}`))),
  );
  return [...new Set(all)].sort();
}

const WORKER_SOURCES = fileURLToPath(new URL('../../packages/worker/src', import.meta.url));

// @kubernetes/client-node's method verbs, as RBAC names them.
const CLIENT_VERBS: Record<string, string> = {
  create: 'create',
  read: 'get',
  replace: 'update',
  patch: 'patch',
  delete: 'delete',
  list: 'list',
  deleteCollection: 'deletecollection',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !/\.(test|fixture)\.ts$/.test(e.name) ? [path] : [];
  });
}

/**
 * The core/v1 calls in the worker's sources: client-node methods (`readNamespacedSecret` is
 * get on secrets, `readNamespacedPodLog` get on pods/log) and the raw paths it builds itself
 * (a collection path feeds a list+watch informer; `<collection>/<name>/<sub>` is a GET of a
 * subresource, such as the followed pod log).
 */
function workerCalls(): { resource: string; verb: string; file: string }[] {
  const calls: { resource: string; verb: string; file: string }[] = [];
  for (const file of sourceFiles(WORKER_SOURCES)) {
    const text = readFileSync(file, 'utf8');
    const short = file.slice(WORKER_SOURCES.length + 1);
    for (const m of text.matchAll(
      /\b(create|read|replace|patch|deleteCollection|delete|list)Namespaced([A-Z][A-Za-z]*)\(/g,
    )) {
      const kind = m[2]!;
      const sub = /^(Pod)(Log|Status|Eviction)$/.exec(kind);
      const resource = sub ? `${sub[1]!.toLowerCase()}s/${sub[2]!.toLowerCase()}` : `${kind.toLowerCase()}s`;
      calls.push({ resource, verb: CLIENT_VERBS[m[1]!]!, file: short });
    }
    for (const m of text.matchAll(/\/api\/v1\/namespaces\/\$\{[^}]+\}\/([a-z]+)(?:\/\$\{[^}]+\}\/([a-z]+))?`/g)) {
      if (m[2]) calls.push({ resource: `${m[1]}/${m[2]}`, verb: 'get', file: short });
      else calls.push({ resource: m[1]!, verb: 'list', file: short }, { resource: m[1]!, verb: 'watch', file: short });
    }
  }
  return calls;
}

describe("the worker's Role", { skip: noHelm }, () => {
  test("the rendered Role grants exactly the worker's declared rights, for any values", async () => {
    for (const values of Object.values(CI_VALUES)) {
      const role = find<{ rules: PermissionRule[] }>(await renderChart(values), 'Role', RELEASE);
      assert.deepEqual(rights(role.rules), rights(WORKER_RULES), values);
    }
  });

  test("allows every Kubernetes call the worker's sources make", () => {
    const calls = workerCalls();
    // The scan must keep finding the calls it is meant to check.
    for (const expected of ['create pods', 'watch pods', 'get pods/log', 'create secrets', 'watch events']) {
      assert.ok(
        calls.some((c) => `${c.verb} ${c.resource}` === expected),
        `the scan found no "${expected}": has clientNodeKubeApi.ts changed shape?`,
      );
    }
    const allowed = (c: { resource: string; verb: string }): boolean =>
      WORKER_RULES.some(
        (r) => r.apiGroups.includes('') && r.resources.includes(c.resource) && r.verbs.includes(c.verb),
      );
    const missing = calls.filter((c) => !allowed(c)).map((c) => `${c.verb} ${c.resource} (${c.file})`);
    assert.deepEqual(
      missing,
      [],
      "calls the Role does not allow: add them to the chart's Role, its README and workerPermissions.ts",
    );
  });
});

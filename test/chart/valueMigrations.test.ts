// charts/longshore-worker/value-migrations.yaml: the values whose meaning changed between chart
// versions, which the server's upgrade applies to the release's own values (`helm get values`)
// before `helm upgrade`. The file has the shape the server parses, and every migration points from
// a value the chart no longer has to one it has, in version order, none from a future version.
// Run: node --conditions=source --import tsx --test test/chart/valueMigrations.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { readChartSchema, resolveRef, type ChartSchema, type SchemaNode } from '../../scripts/chartDocs.js';
import { CHART, readYaml } from './helmChart.js';

const FILE = 'charts/longshore-worker/value-migrations.yaml';

/** SemVer 2.0.0, semver.org's expression (the server's resources/semver.ts uses the same). */
const SEMVER =
  /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** A value path as `--set` and the server name it: keys of values.yaml joined by dots. */
const DOTTED_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** SemVer §11 precedence; build metadata is ignored. Both must match SEMVER. */
function compareSemver(a: string, b: string): number {
  const [x, y] = [SEMVER.exec(a)!, SEMVER.exec(b)!];
  for (const i of [1, 2, 3]) if (x[i] !== y[i]) return Number(x[i]) - Number(y[i]);
  const [xp, yp] = [x[4]?.split('.') ?? [], y[4]?.split('.') ?? []];
  if (!xp.length || !yp.length) return yp.length - xp.length;
  for (let i = 0; i < Math.min(xp.length, yp.length); i++) {
    const [p, q] = [xp[i]!, yp[i]!];
    if (p === q) continue;
    const [pn, qn] = [/^[0-9]+$/.test(p), /^[0-9]+$/.test(q)];
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return xp.length - yp.length;
}

/** Whether values.schema.json has this value: its keys lead there through `properties` ($refs and anyOf followed). */
function schemaHasPath(schema: ChartSchema, path: string): boolean {
  const walk = (node: SchemaNode, keys: string[]): boolean => {
    const n = resolveRef(schema, node);
    if (keys.length === 0) return true;
    if (n.anyOf?.some((branch) => walk(branch, keys))) return true;
    const child = n.properties?.[keys[0]!];
    return child !== undefined && walk(child, keys.slice(1));
  };
  return walk(schema, path.split('.'));
}

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v);

/**
 * Every problem of the file's content, each naming where it is (migrations[i].move[j].from) and
 * what to do; [] when the server can apply it and it fits this chart.
 */
function migrationProblems(content: unknown, schema: ChartSchema, chartVersion: string): string[] {
  const problems: string[] = [];
  if (!content || typeof content !== 'object' || Array.isArray(content))
    return [`the file must be a map with one key, migrations; it is ${typeName(content)}`];
  const extra = Object.keys(content).filter((k) => k !== 'migrations');
  if (extra.length) problems.push(`unknown top-level keys ${extra.join(', ')}: the only one is migrations`);
  const migrations = (content as { migrations?: unknown }).migrations;
  if (!Array.isArray(migrations))
    return [...problems, `migrations must be a list ([] when no value has changed); it is ${typeName(migrations)}`];

  /** Paths moved away or removed by the migrations after index i: where an earlier `to` may lead. */
  const carriedOnAfter = (i: number): Set<string> =>
    new Set(
      migrations.slice(i + 1).flatMap((m: unknown) => {
        const { move, remove } = (m ?? {}) as { move?: unknown; remove?: unknown };
        return [
          ...(Array.isArray(move) ? move.map((e) => (e as { from?: unknown } | null)?.from) : []),
          ...(Array.isArray(remove) ? remove : []),
        ].filter((p): p is string => typeof p === 'string');
      }),
    );

  const path = (at: string, value: unknown): string | undefined => {
    if (typeof value === 'string' && DOTTED_PATH.test(value)) return value;
    problems.push(`${at}: ${JSON.stringify(value)} is not a dotted value path such as scriptPods.resources.requests`);
    return undefined;
  };
  const gone = (at: string, value: unknown, what: string): void => {
    const p = path(at, value);
    if (p && schemaHasPath(schema, p))
      problems.push(
        `${at}: ${p} is still a value of the chart (values.schema.json), so the server would ${what} a value the user set on purpose; a migration starts from a value the chart no longer has`,
      );
  };

  let previous: string | undefined;
  migrations.forEach((m: unknown, i) => {
    const at = `migrations[${i}]`;
    if (!m || typeof m !== 'object' || Array.isArray(m)) {
      problems.push(`${at} must be a map of since, reason, move and remove; it is ${typeName(m)}`);
      return;
    }
    const { since, reason, move, remove, ...rest } = m as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length)
      problems.push(`${at}: unknown keys ${unknown.join(', ')}: the server reads since, reason, move and remove`);

    if (typeof since !== 'string' || !SEMVER.test(since)) {
      problems.push(
        `${at}.since: ${JSON.stringify(since)} is not a SemVer version such as 0.2.0 (quote it if YAML reads it as a number)`,
      );
    } else {
      if (compareSemver(since, chartVersion) > 0)
        problems.push(
          `${at}.since: ${since} is above the chart's version ${chartVersion} (Chart.yaml), so the server would apply it to releases already at this version: set since to the version the change ships in, and raise Chart.yaml's version to it`,
        );
      if (previous !== undefined && compareSemver(since, previous) < 0)
        problems.push(
          `${at}.since: ${since} comes after ${previous}: list migrations in ascending order of since, as the server applies them in the order listed`,
        );
      previous = since;
    }
    if (typeof reason !== 'string' || !reason.trim())
      problems.push(`${at}.reason must be a sentence for the upgrade task's log; it is ${JSON.stringify(reason)}`);
    if (move === undefined && remove === undefined)
      problems.push(`${at} has neither move nor remove: it would change nothing`);

    if (move !== undefined) {
      if (!Array.isArray(move) || move.length === 0) {
        problems.push(`${at}.move must be a non-empty list of {from, to}; it is ${JSON.stringify(move)}`);
      } else {
        const later = carriedOnAfter(i);
        move.forEach((entry: unknown, j) => {
          const here = `${at}.move[${j}]`;
          if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
            problems.push(`${here} must be {from: <old path>, to: <new path>}; it is ${JSON.stringify(entry)}`);
            return;
          }
          const { from, to, ...other } = entry as Record<string, unknown>;
          if (Object.keys(other).length) problems.push(`${here}: unknown keys ${Object.keys(other).join(', ')}`);
          gone(`${here}.from`, from, 'move');
          const target = path(`${here}.to`, to);
          if (target && !schemaHasPath(schema, target) && !later.has(target))
            problems.push(
              `${here}.to: ${target} is not a value of the chart (values.schema.json), nor moved on by a later migration: helm upgrade would refuse the moved value`,
            );
          if (typeof from === 'string' && from === to) problems.push(`${here}: from and to are both ${from}`);
        });
      }
    }
    if (remove !== undefined) {
      if (!Array.isArray(remove) || remove.length === 0)
        problems.push(`${at}.remove must be a non-empty list of dotted paths; it is ${JSON.stringify(remove)}`);
      else remove.forEach((p: unknown, j) => gone(`${at}.remove[${j}]`, p, 'remove'));
    }
  });
  return problems;
}

const schema = readChartSchema();
const chartVersion = readYaml<{ version: string }>(`${CHART}/Chart.yaml`).version;

describe(FILE, () => {
  test('has the shape the server parses, and each migration leads from a value the chart no longer has to one it has', () => {
    const text = readFileSync(`${CHART}/value-migrations.yaml`, 'utf8');
    const content: unknown = parseYaml(text);
    assert.deepEqual(
      migrationProblems(content, schema, chartVersion),
      [],
      `${FILE} has problems (the comment at its top describes the format)`,
    );
    assert.match(text, /^# /, 'the file starts with the comment that explains it');
  });

  test('value paths are looked up in values.schema.json, through shared definitions', () => {
    for (const p of [
      'server.url',
      'scriptPods.resources.requests.cpu',
      'scriptPods.worker.image.tag',
      'upgrader.enabled',
    ])
      assert.ok(schemaHasPath(schema, p), p);
    for (const p of [
      'server.address',
      'scriptPods.resources.requests.gpu',
      'worker.nodeSelector.pool',
      'upgrader.enabled.x',
    ])
      assert.ok(!schemaHasPath(schema, p), p);
  });

  test('a good migration passes, a chain of moves passes', () => {
    const good = {
      migrations: [
        { since: '0.0.2', reason: 'renamed', move: [{ from: 'worker.poolNames', to: 'worker.pools' }] },
        { since: '0.0.3', reason: 'dropped', remove: ['scriptPods.legacyMode'] },
        { since: '0.0.3', reason: 'renamed twice', move: [{ from: 'a.b', to: 'c.d' }] },
        { since: chartVersion, reason: 'and on', move: [{ from: 'c.d', to: 'server.url' }] },
      ],
    };
    assert.deepEqual(migrationProblems(good, schema, chartVersion), []);
    assert.deepEqual(migrationProblems({ migrations: [] }, schema, chartVersion), []);
  });

  test('each kind of mistake is reported with where it is and what to do', () => {
    const cases: [unknown, RegExp][] = [
      [null, /must be a map with one key, migrations/],
      [{ migrations: {} }, /migrations must be a list/],
      [{ migrations: [], version: 2 }, /unknown top-level keys version/],
      [{ migrations: ['x'] }, /migrations\[0\] must be a map/],
      [
        { migrations: [{ since: 0.2, reason: 'r', remove: ['x.y'] }] },
        /migrations\[0\]\.since: 0\.2 is not a SemVer version/,
      ],
      [{ migrations: [{ since: '1.0', reason: 'r', remove: ['x.y'] }] }, /since: "1\.0" is not a SemVer/],
      [{ migrations: [{ since: '99.0.0', reason: 'r', remove: ['x.y'] }] }, /99\.0\.0 is above the chart's version/],
      [
        {
          migrations: [
            { since: '0.1.0', reason: 'r', remove: ['x.y'] },
            { since: '0.0.5', reason: 'r', remove: ['x.z'] },
          ],
        },
        /migrations\[1\]\.since: 0\.0\.5 comes after 0\.1\.0: list migrations in ascending order/,
      ],
      [{ migrations: [{ since: '0.0.1', reason: '', remove: ['x.y'] }] }, /reason must be a sentence/],
      [{ migrations: [{ since: '0.0.1', reason: 'r' }] }, /has neither move nor remove/],
      [{ migrations: [{ since: '0.0.1', reason: 'r', remove: ['x.y'], why: 1 }] }, /unknown keys why/],
      [{ migrations: [{ since: '0.0.1', reason: 'r', move: [] }] }, /move must be a non-empty list/],
      [{ migrations: [{ since: '0.0.1', reason: 'r', move: ['a.b'] }] }, /move\[0\] must be \{from/],
      [
        { migrations: [{ since: '0.0.1', reason: 'r', move: [{ from: 'worker.name', to: 'server.url' }] }] },
        /move\[0\]\.from: worker\.name is still a value of the chart/,
      ],
      [
        { migrations: [{ since: '0.0.1', reason: 'r', move: [{ from: 'old.name', to: 'worker.nickname' }] }] },
        /move\[0\]\.to: worker\.nickname is not a value of the chart/,
      ],
      [
        { migrations: [{ since: '0.0.1', reason: 'r', move: [{ from: 'old name', to: 'server.url' }] }] },
        /move\[0\]\.from: "old name" is not a dotted value path/,
      ],
      [
        { migrations: [{ since: '0.0.1', reason: 'r', move: [{ from: 'a..b', to: 'server.url' }] }] },
        /"a\.\.b" is not a dotted value path/,
      ],
      [{ migrations: [{ since: '0.0.1', reason: 'r', remove: 'x.y' }] }, /remove must be a non-empty list/],
      [
        { migrations: [{ since: '0.0.1', reason: 'r', remove: ['permissions'] }] },
        /remove\[0\]: permissions is still a value/,
      ],
    ];
    for (const [content, expected] of cases) {
      const problems = migrationProblems(content, schema, chartVersion);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${JSON.stringify(content)}: expected ${expected}, got ${JSON.stringify(problems)}`,
      );
    }
  });
});

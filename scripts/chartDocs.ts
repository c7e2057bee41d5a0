import { prettyMarkdown } from './prettyMarkdown.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * The values table of each chart's README.md, generated from values.schema.json (the
 * descriptions) and values.yaml (the defaults), so the documentation cannot drift from what helm
 * checks. `node --import tsx scripts/chartDocs.ts` rewrites them; test/chart/values.test.ts and
 * test/chart/serverChart.test.ts fail when one is stale.
 */

export const CHART_DIR = new URL('../charts/longshore-worker/', import.meta.url);
export const SERVER_CHART_DIR = new URL('../charts/longshore-server/', import.meta.url);
export const CHART_DIRS = [CHART_DIR, SERVER_CHART_DIR];

export interface SchemaNode {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  anyOf?: SchemaNode[];
  enum?: unknown[];
  const?: unknown;
  $ref?: string;
  [keyword: string]: unknown;
}

export interface ChartSchema extends SchemaNode {
  definitions?: Record<string, SchemaNode>;
}

export interface ValueDoc {
  /** Dotted path, e.g. scriptPods.resources.requests. */
  path: string;
  schema: SchemaNode;
  required: boolean;
}

export function readChartSchema(chartDir = CHART_DIR): ChartSchema {
  return JSON.parse(readFileSync(new URL('values.schema.json', chartDir), 'utf8')) as ChartSchema;
}

export function readDefaultValues(chartDir = CHART_DIR): Record<string, unknown> {
  return parseYaml(readFileSync(new URL('values.yaml', chartDir), 'utf8')) as Record<string, unknown>;
}

/** The node a `$ref` names, merged with the referring node's own keywords (its description wins). */
export function resolveRef(schema: ChartSchema, node: SchemaNode): SchemaNode {
  if (!node.$ref) return node;
  const name = node.$ref.replace('#/definitions/', '');
  const target = schema.definitions?.[name];
  if (!target) throw new Error(`values.schema.json: ${node.$ref} names no definition`);
  const { $ref: _ref, ...own } = node;
  return { ...resolveRef(schema, target), title: target.title ?? name, ...own };
}

/**
 * Every value a user sets, in schema order: the chart's own nested objects are opened; a shared
 * definition (a `$ref`, such as a resource list) is one value.
 */
export function valueDocs(schema: ChartSchema, node: SchemaNode = schema, prefix = ''): ValueDoc[] {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child.properties && !child.$ref) return valueDocs(schema, child, path);
    return [{ path, schema: resolveRef(schema, child), required: (node.required ?? []).includes(key) }];
  });
}

function typeOf(schema: ChartSchema, node: SchemaNode): string {
  const resolved = resolveRef(schema, node);
  if (resolved.enum) return resolved.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (resolved.const !== undefined) return JSON.stringify(resolved.const);
  if (resolved.anyOf && !resolved.title) return resolved.anyOf.map((a) => typeOf(schema, a)).join(' \\| ');
  if (resolved.title) return resolved.title;
  if (resolved.type === 'array' && resolved.items) return `list of ${typeOf(schema, resolved.items as SchemaNode)}`;
  return Array.isArray(resolved.type) ? resolved.type.join(' \\| ') : (resolved.type ?? 'any');
}

function valueAt(values: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), values);
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('\n', ' ');

export function valuesTable(schema: ChartSchema, defaults: Record<string, unknown>): string {
  const rows = valueDocs(schema).map(({ path, schema: node, required }) => {
    const dflt = valueAt(defaults, path);
    const shown = dflt === undefined ? '' : `\`${cell(JSON.stringify(dflt))}\``;
    return `| \`${path}\`${required ? ' (required)' : ''} | ${typeOf(schema, node)} | ${shown} | ${cell(node.description ?? '')} |`;
  });
  return ['| value | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export async function renderChartReadme(
  readme: string,
  schema = readChartSchema(),
  defaults = readDefaultValues(),
  chartDir = CHART_DIR,
): Promise<string> {
  const re = /(<!-- generated:values -->)[\s\S]*?(<!-- \/generated:values -->)/;
  if (!re.test(readme)) throw new Error(`${chartDir.pathname}README.md has no <!-- generated:values --> section`);
  return prettyMarkdown(readme.replace(re, `$1\n${valuesTable(schema, defaults)}\n$2`), new URL('README.md', chartDir));
}

/** Rewrites every chart's README values table. */
export async function writeChartReadmes(): Promise<void> {
  for (const dir of CHART_DIRS) {
    const path = new URL('README.md', dir);
    writeFileSync(
      path,
      await renderChartReadme(readFileSync(path, 'utf8'), readChartSchema(dir), readDefaultValues(dir), dir),
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await writeChartReadmes();

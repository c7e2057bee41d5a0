// How the sandbox words a configuration problem: the setting as a YAML user writes it
// (`cluster.nodeGroups[0].cpu`), what it must be, and what was given, with secrets withheld.
import { memberSchema, settingSchema } from '@longshore/protocol/config';
import { KindGuard, type TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/value';

export function mustBe(path: string, want: string, got: unknown): string {
  return `${path} must be ${want}, got ${JSON.stringify(got)}`;
}

/** Describes a schema error of the configuration whose schema is `root`. */
export function sandboxConfigProblem(root: TSchema): (error: ValueError) => string {
  return (error) => {
    const keys = error.path.split('/').slice(1).map(unescapePointer);
    const path = dottedPath(root, keys);
    if (error.type === ValueErrorType.ObjectAdditionalProperties) {
      const parent = settingSchema(root, keys.slice(0, -1));
      const known =
        parent && KindGuard.IsObject(parent) ? ` (known: ${Object.keys(parent.properties).join(', ')})` : '';
      return `unknown key ${path}${known}`;
    }
    if (error.value === undefined) return `${path} is missing: it must be ${expected(error.schema)}`;
    return mustBe(path, expected(error.schema), error.schema.secret === true ? '<redacted>' : error.value);
  };
}

function unescapePointer(key: string): string {
  return key.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** `cluster.nodeGroups[0].taints[1].effect`, `cluster.images["my/tool"].cmd`. */
function dottedPath(root: TSchema, keys: readonly string[]): string {
  let path = '';
  let at: TSchema | undefined = root;
  for (const key of keys) {
    if (at !== undefined && KindGuard.IsArray(at)) path += `[${key}]`;
    else if (at !== undefined && KindGuard.IsRecord(at)) path += `[${JSON.stringify(key)}]`;
    else path += path === '' ? key : `.${key}`;
    at = at === undefined ? undefined : memberSchema(at, key);
  }
  return path === '' ? '(root)' : path;
}

/** What a setting must be, in words: the schema's own `expected` text, else from its type and bounds. */
function expected(schema: TSchema): string {
  if (typeof schema.expected === 'string') return schema.expected;
  if (KindGuard.IsInteger(schema)) return `an integer from ${schema.minimum} to ${schema.maximum}`;
  if (KindGuard.IsNumber(schema)) return `a number from ${schema.minimum} to ${schema.maximum}`;
  if (KindGuard.IsBoolean(schema)) return 'true or false';
  if (KindGuard.IsUnion(schema) && schema.anyOf.every((s) => KindGuard.IsLiteral(s))) {
    const values = schema.anyOf.map((s) => String(s.const));
    return `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
  }
  if (KindGuard.IsArray(schema)) return KindGuard.IsString(schema.items) ? 'a list of strings' : 'a list';
  if (KindGuard.IsRecord(schema)) {
    return KindGuard.IsString(Object.values(schema.patternProperties)[0]) ? 'a mapping of strings' : 'a mapping';
  }
  if (KindGuard.IsObject(schema)) {
    const required = (schema.required ?? []).filter((key) => schema.properties[key]?.default === undefined);
    return required.length > 0 ? `a mapping with ${required.join(' and ')}` : 'a mapping';
  }
  if (KindGuard.IsString(schema)) {
    const atLeast = schema.minLength ?? 0;
    return atLeast > 1
      ? `a string of at least ${atLeast} characters`
      : atLeast === 1
        ? 'a non-empty string'
        : 'a string';
  }
  return 'valid';
}

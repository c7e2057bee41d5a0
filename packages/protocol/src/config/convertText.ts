import { KindGuard, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { memberSchema } from './settingSchema.js';

/**
 * Text converted where the schema wants a number or a boolean (flags and environment variables
 * are text), and numbers where it wants text (YAML reads `cpu: 2` as a number). Nothing else is
 * reshaped: a value of the wrong kind stays, for the schema to refuse with its path. Converts in place.
 */
export function convertText(schema: TSchema, value: unknown): unknown {
  if (KindGuard.IsUnion(schema)) {
    if (schema.anyOf.some((member) => Value.Check(member, value))) return value;
    for (const member of schema.anyOf) {
      const converted = convertText(member, Value.Clone(value));
      if (Value.Check(member, converted)) return converted;
    }
    return value;
  }
  if (Array.isArray(value)) {
    if (KindGuard.IsArray(schema)) value.forEach((item, i) => (value[i] = convertText(schema.items, item)));
    return value;
  }
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    for (const [key, member] of Object.entries(object)) {
      const memberSchemaOf = memberSchema(schema, key);
      if (memberSchemaOf !== undefined) object[key] = convertText(memberSchemaOf, member);
    }
    return object;
  }
  if (typeof value === 'string') return scalarFromText(schema, value);
  if (typeof value === 'number' && KindGuard.IsString(schema)) return String(value);
  return value;
}

/** A number or boolean from its text (booleans: 1/true/yes, 0/false/no); text that is neither is kept. */
export function scalarFromText(schema: TSchema, text: string): unknown {
  if (KindGuard.IsBoolean(schema)) {
    const lower = text.toLowerCase();
    if (['1', 'true', 'yes'].includes(lower)) return true;
    if (['0', 'false', 'no'].includes(lower)) return false;
    return text;
  }
  if (KindGuard.IsInteger(schema) || KindGuard.IsNumber(schema)) {
    const number = Number(text);
    return text.trim() === '' || Number.isNaN(number) ? text : number;
  }
  return text;
}

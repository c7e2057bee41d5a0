import { KindGuard, type TSchema } from '@sinclair/typebox';

/**
 * The schema of one setting, found by its path (property names and list indexes), or undefined
 * when the configuration has no such setting.
 */
export function settingSchema(schema: TSchema, path: readonly string[]): TSchema | undefined {
  let at: TSchema | undefined = schema;
  for (const key of path) at = at === undefined ? undefined : memberSchema(at, key);
  return at;
}

/** The schema of a property, record entry or list item inside an object, record or list schema. */
export function memberSchema(schema: TSchema, key: string): TSchema | undefined {
  if (KindGuard.IsObject(schema)) {
    const extra = schema.additionalProperties;
    return schema.properties[key] ?? (typeof extra === 'object' ? extra : undefined);
  }
  if (KindGuard.IsRecord(schema)) return Object.values(schema.patternProperties)[0];
  if (KindGuard.IsArray(schema)) return schema.items;
  return undefined;
}

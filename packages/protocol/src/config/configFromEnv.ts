import { KindGuard, type TSchema } from '@sinclair/typebox';
import { scalarFromText } from './convertText.js';
import { settingSchema } from './settingSchema.js';

/** Environment variable name → the setting it gives, as a dotted path (`leaseMs`, `resources.requests.cpu`). */
export type EnvironmentSettings = Readonly<Record<string, string>>;

export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/**
 * The settings the environment gives, converted to what the schema expects: numbers, booleans
 * (1/true/yes, 0/false/no) and lists (comma-separated). Empty variables count as unset. Text that
 * does not convert is kept, so that parseConfig refuses it with the setting's path.
 */
export function configFromEnv(
  schema: TSchema,
  env: EnvironmentVariables,
  settings: EnvironmentSettings,
): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(settings)) {
    const keys = path.split('.');
    const setting = settingSchema(schema, keys);
    // A map naming a setting the schema lacks is a bug, not a user's mistake.
    if (setting === undefined) throw new Error(`${name} names the setting ${path}, which the configuration lacks`);
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setAt(config, keys, fromText(setting, raw));
  }
  return config;
}

function fromText(schema: TSchema, raw: string): unknown {
  if (!KindGuard.IsArray(schema)) return scalarFromText(schema, raw);
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => scalarFromText(schema.items, item));
}

function setAt(config: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  let at = config;
  for (const key of keys.slice(0, -1)) {
    const next = at[key];
    at = typeof next === 'object' && next !== null ? (next as Record<string, unknown>) : (at[key] = {});
  }
  at[keys[keys.length - 1]!] = value;
}

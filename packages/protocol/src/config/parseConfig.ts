import type { Static, TSchema } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { LongshoreError } from '../errors.js';
import { convertText } from './convertText.js';

export interface ParseConfigOptions<T> {
  /** What is parsed, as the error message names it: `The worker configuration`. */
  subject: string;
  /** How one schema error reads; default `<path>: <what the schema expected>`. */
  describe?: (error: ValueError) => string;
  /** Checks across settings, run once every setting is valid on its own: one `<path>: <what is wrong>` each. */
  check?: (config: T) => string[];
}

/**
 * Defaults filled in, text converted to the numbers and booleans the schema expects (flags and
 * environment variables are text), then checked. Every problem is reported at once, each with its
 * path, so a deployment is fixed in one round rather than one setting per restart.
 */
export function parseConfig<S extends TSchema>(
  schema: S,
  input: unknown,
  options: ParseConfigOptions<Static<S>>,
): Static<S> {
  const value = convertText(schema, Value.Default(schema, Value.Clone(input ?? {})));
  // A value can break a rule twice over (missing, so not of its type either): each text once.
  const problems = [...new Set([...Value.Errors(schema, value)].map(options.describe ?? describeSchemaError))];
  if (problems.length === 0 && options.check) problems.push(...options.check(value as Static<S>));
  if (problems.length > 0) throw configInvalid(options.subject, problems);
  return value as Static<S>;
}

export function describeSchemaError(error: ValueError): string {
  return `${error.path || '/'}: ${error.message}`;
}

/** The one error every configuration problem becomes; `details.problems` lists them. */
function configInvalid(subject: string, problems: readonly string[]): LongshoreError {
  return new LongshoreError('CONFIG_INVALID', `${subject} is not valid: ${problems.join('; ')}`, {
    problems: [...problems],
  });
}

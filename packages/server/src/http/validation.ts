import type { TObject } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats ships CommonJS with a default export; under NodeNext the callable is on .default.
const addFormats = addFormatsModule.default;

/**
 * Bodies are checked strictly: `"name": 5` is an error, not the name "5". Query strings and path
 * parameters arrive as text, so there types are coerced (`?limit=5` is the number 5).
 */
export function installValidation(app: FastifyInstance): void {
  const make = (coerceTypes: Options['coerceTypes']) => {
    // verbose: errors carry their schema, whose description the error handler quotes to say the rule.
    const ajv = new Ajv({
      coerceTypes,
      useDefaults: true,
      removeAdditional: false,
      allErrors: true,
      strict: false,
      verbose: true,
    });
    addFormats(ajv);
    return ajv;
  };
  const strict = make(false);
  const coercing = make('array');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}

/**
 * An object whose fields with a `default` a client may leave out, while its handler always sees
 * them: the validator fills them in (useDefaults above). Declare such a field without
 * Type.Optional, so its type says it is there; it is taken out of `required` here, so the
 * validator and the API document let a client leave it out.
 */
export function WithDefaults<T extends TObject>(schema: T): T {
  const { required = [], ...rest } = schema;
  const needed = required.filter((key) => schema.properties[key]?.default === undefined);
  return (needed.length > 0 ? { ...rest, required: needed } : rest) as T;
}

import { Type, type Static } from '@sinclair/typebox';
import { ExecutionContainer, Resources, ScriptSyntax } from '@longshore/protocol';
import { Name, Tag } from './common.js';
import { CONTROL_CHARACTERS, nameKey } from './names.js';

export const PackageReference = Type.Object(
  {
    /** The folder name the package is extracted into; defaults to the package id. */
    reference: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 100 })),
    packageId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 100 }),
    /** Pinned version; when absent the release takes the newest in the feed. */
    version: Type.Optional(Type.String({ maxLength: 100 })),
    /** `docker-image` packages need Docker, which only some workers have. */
    kind: Type.Optional(Type.Union([Type.Literal('archive'), Type.Literal('docker-image')], { default: 'archive' })),
  },
  { additionalProperties: false },
);

export const Step = Type.Object(
  {
    name: Name,
    script: Type.Object(
      { syntax: Type.Optional(ScriptSyntax), body: Type.String({ maxLength: 1024 * 1024 }) },
      { additionalProperties: false },
    ),
    runOn: Type.Optional(
      Type.Object(
        {
          pool: Type.Optional(Name),
          /** Run once per target (in the deployment's environment) that has any of these tags. */
          targetTags: Type.Optional(Type.Array(Tag, { minItems: 1, maxItems: 50 })),
          maxParallelism: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        },
        { additionalProperties: false },
      ),
    ),
    container: Type.Optional(ExecutionContainer),
    resources: Type.Optional(
      Type.Union([Resources, Type.Literal('auto')], {
        description:
          "The script pod's requests and limits; `auto`: what the step's measured runs recommend (the pool default until there are enough)",
      }),
    ),
    packages: Type.Optional(Type.Array(PackageReference, { maxItems: 50 })),
    condition: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('always'), Type.Literal('failure')])),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600 })),
  },
  { additionalProperties: false },
);
export type Step = Static<typeof Step>;

export const Process = Type.Object({ steps: Type.Array(Step, { maxItems: 200 }) }, { additionalProperties: false });
export type Process = Static<typeof Process>;

export const VariableScope = Type.Object(
  {
    environments: Type.Optional(Type.Array(Name, { maxItems: 100 })),
    targetTags: Type.Optional(Type.Array(Tag, { maxItems: 100 })),
    targets: Type.Optional(Type.Array(Name, { maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type VariableScope = Static<typeof VariableScope>;

export const VariableInput = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 256,
      pattern: `^[^#{}${CONTROL_CHARACTERS}]+$`,
      description: 'a variable name: no #, { or }, no control characters',
    }),
    /** Omit for a sensitive variable to keep the value already stored for the same name and scope. */
    value: Type.Optional(Type.String({ maxLength: 1024 * 1024 })),
    sensitive: Type.Optional(Type.Boolean()),
    scope: Type.Optional(VariableScope),
  },
  { additionalProperties: false },
);
export type VariableInput = Static<typeof VariableInput>;

export const DEFAULT_STEP_TIMEOUT_SECONDS = 3600;

/** Cross-field checks the schema cannot say; each message names the step. */
export function processProblems(process: Process): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  process.steps.forEach((step, i) => {
    const key = nameKey(step.name);
    if (seen.has(key)) problems.push(`process.steps[${i}].name: another step is already named '${step.name}'`);
    seen.add(key);
    if (step.container && (step.container.image === undefined) === (step.container.dockerfile === undefined)) {
      problems.push(`process.steps[${i}].container: set exactly one of image or dockerfile`);
    }
    const refs = new Set<string>();
    step.packages?.forEach((p, j) => {
      const ref = (p.reference ?? p.packageId).toLowerCase();
      if (refs.has(ref))
        problems.push(`process.steps[${i}].packages[${j}]: reference '${ref}' is used twice in this step`);
      refs.add(ref);
    });
  });
  return problems;
}

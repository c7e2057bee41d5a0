import { isLongshoreError } from '@longshore/client';

/** The fields of the step editor a problem can be shown by. */
export type StepField =
  'name' | 'script' | 'pool' | 'image' | 'cpu' | 'memory' | 'packages' | 'condition' | 'timeout' | 'step';

/** One of the server's problems, by the step and field it names; `message` without the path. */
export interface StepProblem {
  step: number;
  field: StepField;
  message: string;
}

/*
 * The server names a step two ways: its schema check by the JSON path (`body.steps.1.timeoutSeconds
 * must be <= 604800`, `body.process.steps.0.name is required`), its own checks with brackets
 * (`process.steps[1].name: another step is already named 'Build'`).
 */
const STEP_PATH = /steps(?:\[(\d+)\]|\.(\d+))((?:\.[A-Za-z-]+|\.\d+|\[\d+\])*)(?::\s*|\s+)?([\s\S]*)/;

function fieldOf(path: string): StepField {
  const [first, second, third] = path.split(/[.[\]]+/).filter(Boolean);
  if (first === 'runOn') return second === 'pool' ? 'pool' : 'step';
  if (first === 'container') return 'image';
  if (first === 'resources') return third === 'memory' ? 'memory' : 'cpu';
  if (first === 'timeoutSeconds') return 'timeout';
  if (first === 'name' || first === 'script' || first === 'packages' || first === 'condition') return first;
  return 'step';
}

function problemOf(text: string): StepProblem | undefined {
  const match = STEP_PATH.exec(text);
  if (!match) return undefined;
  return { step: Number(match[1] ?? match[2]), field: fieldOf(match[3] ?? ''), message: match[4] || text };
}

/** The steps and fields a refused save names, from the problems the server listed (or its message). */
export function stepProblems(err: unknown): StepProblem[] {
  if (!isLongshoreError(err)) return [];
  const listed = err.details?.problems as unknown;
  const texts = Array.isArray(listed) ? listed.filter((p): p is string => typeof p === 'string') : [err.message];
  return texts.map(problemOf).filter((p): p is StepProblem => p !== undefined);
}

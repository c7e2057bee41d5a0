// A Job's podFailurePolicy (validatePodFailurePolicy): at most 20 rules, each with one known
// action and exactly one of onExitCodes (a known operator, a container of the template, 1..255
// ordered distinct codes, no 0 with In) or onPodConditions (at most 20, qualified types, a status).
import { qualifiedNameError } from '../selectors/labels.js';
import { duplicate, invalid, notSupported, required, tooMany, type FieldError } from './fieldErrors.js';

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

const ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const OPERATORS = ['In', 'NotIn'];
const STATUSES = ['False', 'True', 'Unknown'];
const MAX_RULES = 20;
const MAX_CONDITION_PATTERNS = 20;
const MAX_EXIT_CODES = 255;

/** Go's %q of a sorted string slice: ["Count" "FailIndex" ...]. */
const quotedList = (values: string[]): string => `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;

function exitCodeErrors(codes: Obj, path: string, containers: Set<string>): FieldError[] {
  const out: FieldError[] = [];
  if (codes.operator === undefined || codes.operator === '')
    out.push(required(`${path}.operator`, `valid values: ${quotedList(OPERATORS)}`));
  else if (!OPERATORS.includes(String(codes.operator)))
    out.push(notSupported(`${path}.operator`, codes.operator, OPERATORS));
  if (typeof codes.containerName === 'string' && !containers.has(codes.containerName))
    out.push(
      invalid(
        `${path}.containerName`,
        codes.containerName,
        'must be one of the container or initContainer names in the pod template',
      ),
    );
  const values = Array.isArray(codes.values) ? (codes.values as number[]) : [];
  if (values.length === 0) out.push(invalid(`${path}.values`, values, 'at least one value is required'));
  else if (values.length > MAX_EXIT_CODES) out.push(tooMany(`${path}.values`, values.length, MAX_EXIT_CODES));
  const seen = new Set<number>();
  let ordered = true;
  values.forEach((v, j) => {
    if (codes.operator === 'In' && v === 0)
      out.push(invalid(`${path}.values[${j}]`, v, 'must not be 0 for the In operator'));
    if (seen.has(v)) out.push(duplicate(`${path}.values[${j}]`, v));
    else seen.add(v);
    if (j > 0 && values[j - 1]! > v) ordered = false;
  });
  if (!ordered) out.push(invalid(`${path}.values`, values, 'must be ordered'));
  return out;
}

function conditionErrors(conditions: Obj[], path: string): FieldError[] {
  const out: FieldError[] = [];
  if (conditions.length > MAX_CONDITION_PATTERNS) out.push(tooMany(path, conditions.length, MAX_CONDITION_PATTERNS));
  conditions.forEach((c, j) => {
    const p = `${path}[${j}]`;
    const type = String(c.type ?? '');
    if (type === '') out.push(required(`${p}.type`, ''));
    else {
      const err = qualifiedNameError(type);
      if (err) out.push(invalid(`${p}.type`, type, err));
    }
    if (c.status === undefined || c.status === '')
      out.push(required(`${p}.status`, `valid values: ${quotedList(STATUSES)}`));
    else if (!STATUSES.includes(String(c.status))) out.push(notSupported(`${p}.status`, c.status, STATUSES));
  });
  return out;
}

/** `jobSpec` is the Job's spec: the containers and backoffLimitPerIndex the rules refer to. */
export function validatePodFailurePolicy(policy: Obj, path: string, jobSpec: Obj): FieldError[] {
  const out: FieldError[] = [];
  const rules = arr(policy.rules);
  if (rules.length > MAX_RULES) out.push(tooMany(`${path}.rules`, rules.length, MAX_RULES));
  const podSpec = ((jobSpec.template as Obj | undefined)?.spec ?? {}) as Obj;
  const containers = new Set(
    [...arr(podSpec.containers), ...arr(podSpec.initContainers)].map((c) => String(c.name ?? '')),
  );
  rules.forEach((rule, i) => {
    const p = `${path}.rules[${i}]`;
    const action = rule.action;
    if (action === undefined || action === '')
      out.push(required(`${p}.action`, `valid values: ${quotedList(ACTIONS)}`));
    else if (action === 'FailIndex') {
      if (jobSpec.backoffLimitPerIndex === undefined)
        out.push(invalid(`${p}.action`, action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!ACTIONS.includes(String(action))) out.push(notSupported(`${p}.action`, action, ACTIONS));
    const codes = rule.onExitCodes as Obj | undefined;
    const conditions = arr(rule.onPodConditions);
    if (codes) out.push(...exitCodeErrors(codes, `${p}.onExitCodes`, containers));
    if (conditions.length) out.push(...conditionErrors(conditions, `${p}.onPodConditions`));
    if (codes && conditions.length)
      out.push(invalid(p, undefined, 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!codes && !conditions.length)
      out.push(invalid(p, undefined, 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
  return out;
}

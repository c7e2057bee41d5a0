// A Job's podFailurePolicy (validatePodFailurePolicy): each rule one action and exactly one of
// onExitCodes or onPodConditions.
import { invalid, notSupported, required, type FieldError } from './fieldErrors.js';

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

const ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const OPERATORS = ['In', 'NotIn'];

export function validatePodFailurePolicy(policy: Obj, path: string): FieldError[] {
  const out: FieldError[] = [];
  const rules = arr(policy.rules);
  rules.forEach((rule, i) => {
    const p = `${path}.rules[${i}]`;
    if (!ACTIONS.includes(String(rule.action))) out.push(notSupported(`${p}.action`, rule.action ?? '', ACTIONS));
    const codes = rule.onExitCodes as Obj | undefined;
    const conds = rule.onPodConditions as Obj[] | undefined;
    if (codes && conds)
      out.push(invalid(p, undefined, 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!codes && !conds)
      out.push(invalid(p, undefined, 'specifying one of OnExitCodes and OnPodConditions is required'));
    if (codes) {
      if (!OPERATORS.includes(String(codes.operator)))
        out.push(notSupported(`${p}.onExitCodes.operator`, codes.operator ?? '', OPERATORS));
      const values = Array.isArray(codes.values) ? (codes.values as unknown[]) : [];
      if (values.length === 0) out.push(required(`${p}.onExitCodes.values`, 'at least one value is required'));
      values.forEach((v, j) => {
        if (v === 0 && codes.operator === 'In')
          out.push(invalid(`${p}.onExitCodes.values[${j}]`, v, 'must not be 0 for the In operator'));
        if (j > 0 && Number(v) <= Number(values[j - 1]))
          out.push(invalid(`${p}.onExitCodes.values[${j}]`, v, 'must be ordered'));
      });
    }
    arr(conds).forEach((c, j) => {
      if (!c.type) out.push(required(`${p}.onPodConditions[${j}].type`, ''));
      if (!['True', 'False', 'Unknown'].includes(String(c.status)))
        out.push(notSupported(`${p}.onPodConditions[${j}].status`, c.status ?? '', ['True', 'False', 'Unknown']));
    });
  });
  return out;
}

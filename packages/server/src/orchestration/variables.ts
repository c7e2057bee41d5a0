import { LongshoreError, type OperationVariable } from '@longshore/protocol';
import type { StoredVariable } from '../resources/projects.js';

export interface ScopeContext {
  environment: string;
  target?: { name: string; tags: readonly string[] };
}

const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * How specific a scoped value is for this context, or -1 when it does not apply. A value scoped
 * to the target beats one scoped to its tags, which beats one scoped to the environment, which
 * beats an unscoped one; each named dimension must match.
 */
function specificity(v: StoredVariable, ctx: ScopeContext): number {
  const { environments, targetTags, targets } = v.scope;
  let rank = 0;
  if (environments?.length) {
    if (!environments.some((e) => eq(e, ctx.environment))) return -1;
    rank += 1;
  }
  if (targetTags?.length) {
    if (!ctx.target || !targetTags.some((t) => ctx.target!.tags.some((x) => eq(x, t)))) return -1;
    rank += 2;
  }
  if (targets?.length) {
    if (!ctx.target || !targets.some((t) => eq(t, ctx.target!.name))) return -1;
    rank += 4;
  }
  return rank;
}

/** One value per name (case-insensitive): the most specific that applies; the first declared on a tie. */
export function selectVariables(variables: readonly StoredVariable[], ctx: ScopeContext): Map<string, OperationVariable> {
  const best = new Map<string, { rank: number; v: OperationVariable }>();
  for (const v of variables) {
    const rank = specificity(v, ctx);
    if (rank < 0) continue;
    const key = v.name.toLowerCase();
    const current = best.get(key);
    if (!current || rank > current.rank) best.set(key, { rank, v: { name: v.name, value: v.value, sensitive: v.sensitive } });
  }
  return new Map([...best].map(([k, { v }]) => [k, v]));
}

const REFERENCE = /#\{([^{}]+)\}/g;
const ESCAPE = '##{';

/**
 * Expands `#{Name}` in every value, depth-first, so a value may refer to others. A value that takes
 * in a sensitive one becomes sensitive. Unknown and cyclic references throw INVALID_REFERENCE with
 * the chain, so the user sees which variable to fix. `##{x}` is a literal `#{x}`.
 */
export class VariableSet {
  readonly #vars: Map<string, OperationVariable>;
  readonly #resolved = new Map<string, OperationVariable>();

  constructor(vars: Map<string, OperationVariable>) {
    this.#vars = vars;
  }

  resolve(name: string, chain: string[] = []): OperationVariable {
    const key = name.toLowerCase();
    const done = this.#resolved.get(key);
    if (done) return done;
    const v = this.#vars.get(key);
    if (!v) {
      const via = chain.length ? ` (referenced by ${chain.map((c) => `'${c}'`).join(' -> ')})` : '';
      throw new LongshoreError('INVALID_REFERENCE', `Variable '${name}' is not defined${via}`, { name, chain });
    }
    if (chain.some((c) => c.toLowerCase() === key)) {
      const cycle = [...chain, name].join(' -> ');
      throw new LongshoreError('INVALID_REFERENCE', `Variables refer to each other in a cycle: ${cycle}`, { cycle: [...chain, name] });
    }
    const { text, sensitive } = this.#expand(v.value, [...chain, v.name]);
    const out = { name: v.name, value: text, sensitive: v.sensitive || sensitive };
    this.#resolved.set(key, out);
    return out;
  }

  /** Substitutes references in a text such as a script body. */
  substitute(text: string, what: string): { text: string; sensitive: boolean } {
    return this.#expand(text, [what]);
  }

  all(): OperationVariable[] {
    return [...this.#vars.keys()].map((k) => this.resolve(this.#vars.get(k)!.name));
  }

  #expand(text: string, chain: string[]): { text: string; sensitive: boolean } {
    if (!text.includes('#{')) return { text, sensitive: false };
    let sensitive = false;
    const parts = text.split(ESCAPE);
    const expanded = parts.map((part) =>
      part.replace(REFERENCE, (_m, ref: string) => {
        const v = this.resolve(ref.trim(), chain);
        sensitive ||= v.sensitive;
        return v.value;
      }),
    );
    return { text: expanded.join('#{'), sensitive };
  }
}

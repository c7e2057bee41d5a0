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
export function selectVariables(
  variables: readonly StoredVariable[],
  ctx: ScopeContext,
): Map<string, OperationVariable> {
  const best = new Map<string, { rank: number; v: OperationVariable }>();
  for (const v of variables) {
    const rank = specificity(v, ctx);
    if (rank < 0) continue;
    const key = v.name.toLowerCase();
    const current = best.get(key);
    if (!current || rank > current.rank)
      best.set(key, { rank, v: { name: v.name, value: v.value, sensitive: v.sensitive } });
  }
  return new Map([...best].map(([k, { v }]) => [k, v]));
}

const REFERENCE = /#\{([^{}]+)\}/g;
const ESCAPE = '##{';

/**
 * How many references deep a value may nest. Resolution recurses once per level, so without a
 * bound a long chain (thousands of variables each naming the next) overflows the stack; real
 * chains are a handful deep.
 */
export const MAX_REFERENCE_DEPTH = 64;
/**
 * The most characters one expanded value or script may have. Each level may repeat what it
 * refers to (`#{A}#{A}`), so a few dozen levels reach the runtime's string limit; this stops far
 * below it, at four times the largest value a user can store.
 */
export const MAX_EXPANDED_LENGTH = 4 * 1024 * 1024;
/** The most characters all expanded values of one operation may have together: they all travel in it. */
export const MAX_TOTAL_EXPANDED_LENGTH = 16 * 1024 * 1024;

const MiB = (n: number) => `${n / (1024 * 1024)} MiB`;

/** A long chain is shown by its ends: they say where it starts and which variable went too deep. */
function describeChain(chain: readonly string[]): string {
  const quoted = chain.map((c) => `'${c}'`);
  const shown =
    quoted.length > 8 ? [...quoted.slice(0, 3), `... ${quoted.length - 6} more ...`, ...quoted.slice(-3)] : quoted;
  return shown.join(' -> ');
}

/**
 * Expands `#{Name}` in every value, depth-first, so a value may refer to others. A value that takes
 * in a sensitive one becomes sensitive. Unknown and cyclic references, chains deeper than
 * MAX_REFERENCE_DEPTH and expansions past MAX_EXPANDED_LENGTH (or MAX_TOTAL_EXPANDED_LENGTH for
 * the whole set) throw INVALID_REFERENCE naming the variable, so the user sees which one to fix.
 * `##{x}` is a literal `#{x}`.
 */
/**
 * System variables that the worker sets in the workspace (packages/worker's workspace.ts), not the
 * server: an operation is planned before a worker leases it, and the server's own address is not
 * the one the worker dialled (a proxy, a Service name), so neither is known when `#{...}` is expanded.
 */
export const RUN_TIME_VARIABLES = ['Longshore.Worker.Name', 'Longshore.Server.Url'] as const;

export class VariableSet {
  readonly #vars: Map<string, OperationVariable>;
  readonly #resolved = new Map<string, Resolved>();
  #totalLength = 0;

  constructor(vars: Map<string, OperationVariable>) {
    this.#vars = vars;
  }

  resolve(name: string): OperationVariable {
    return this.#resolve(name, [], 1).variable;
  }

  /** Substitutes references in a text such as a script body. */
  substitute(text: string, what: string): { text: string; sensitive: boolean } {
    const { text: expanded, sensitive } = this.#expand(text, [what], 0, what.charAt(0).toUpperCase() + what.slice(1));
    return { text: expanded, sensitive };
  }

  all(): OperationVariable[] {
    return [...this.#vars.keys()].map((k) => this.resolve(this.#vars.get(k)!.name));
  }

  /** `chain` is how resolution got here, for messages; `depth` counts the variables in it, this one included. */
  #resolve(name: string, chain: string[], depth: number): Resolved {
    const key = name.toLowerCase();
    const done = this.#resolved.get(key);
    if (done) {
      // Checked again from here, so that whether a chain is too deep does not depend on which end was resolved first.
      checkDepth(done.variable.name, chain, depth, done.height - 1);
      return done;
    }
    const v = this.#vars.get(key);
    if (!v) {
      const via = chain.length ? ` (referenced by ${describeChain(chain)})` : '';
      const runTime = RUN_TIME_VARIABLES.find((r) => r.toLowerCase() === key);
      if (runTime) {
        throw new LongshoreError(
          'INVALID_REFERENCE',
          `Variable '${runTime}' is known only when the script runs, on the worker that takes it, so #{...} cannot substitute it${via}; read it in the script with $(get_longshore_variable ${runTime})`,
          { name, chain, runTimeOnly: true },
        );
      }
      throw new LongshoreError('INVALID_REFERENCE', `Variable '${name}' is not defined${via}`, { name, chain });
    }
    if (chain.some((c) => c.toLowerCase() === key)) {
      const cycle = [...chain, name].join(' -> ');
      throw new LongshoreError('INVALID_REFERENCE', `Variables refer to each other in a cycle: ${cycle}`, {
        cycle: [...chain, name],
      });
    }
    checkDepth(v.name, chain, depth, 0);
    const { text, sensitive, height } = this.#expand(v.value, [...chain, v.name], depth, `Variable '${v.name}'`);
    this.#totalLength += text.length;
    if (this.#totalLength > MAX_TOTAL_EXPANDED_LENGTH) {
      throw new LongshoreError(
        'INVALID_REFERENCE',
        `The variables of this operation expand to more than ${MiB(MAX_TOTAL_EXPANDED_LENGTH)} together (reached at '${v.name}'); an operation carries all of them, so use smaller values or fewer copies`,
        { name: v.name, limit: MAX_TOTAL_EXPANDED_LENGTH },
      );
    }
    const out = { variable: { name: v.name, value: text, sensitive: v.sensitive || sensitive }, height: height + 1 };
    this.#resolved.set(key, out);
    return out;
  }

  /** `height` in the answer is the longest chain of references below the text. */
  #expand(
    text: string,
    chain: string[],
    depth: number,
    owner: string,
  ): { text: string; sensitive: boolean; height: number } {
    if (!text.includes('#{')) return { text, sensitive: false, height: 0 };
    let sensitive = false;
    let height = 0;
    // Counted before the pieces are joined, so an oversized result is refused before it is built.
    let length = text.length;
    const parts = text.split(ESCAPE);
    const expanded = parts.map((part) =>
      part.replace(REFERENCE, (_m, ref: string) => {
        const { variable: v, height: below } = this.#resolve(ref.trim(), chain, depth + 1);
        sensitive ||= v.sensitive;
        height = Math.max(height, below);
        length += v.value.length;
        if (length > MAX_EXPANDED_LENGTH) {
          throw new LongshoreError(
            'INVALID_REFERENCE',
            `${owner} expands to more than ${MiB(MAX_EXPANDED_LENGTH)} (it takes in '${v.name}', ${v.value.length} characters); refer to large values fewer times`,
            { name: chain[chain.length - 1], limit: MAX_EXPANDED_LENGTH },
          );
        }
        return v.value;
      }),
    );
    return { text: expanded.join('#{'), sensitive, height };
  }
}

interface Resolved {
  variable: OperationVariable;
  /** The longest chain of references from this variable down, itself included. */
  height: number;
}

/** `below` is how many levels the variable is already known to nest under it. */
function checkDepth(name: string, chain: readonly string[], depth: number, below: number): void {
  if (depth + below <= MAX_REFERENCE_DEPTH) return;
  const rest = below > 0 ? ` -> ${below} more below it` : '';
  throw new LongshoreError(
    'INVALID_REFERENCE',
    `Variable '${name}' is nested more than ${MAX_REFERENCE_DEPTH} references deep (${describeChain([...chain, name])}${rest}); refer to the value you need more directly`,
    { name, limit: MAX_REFERENCE_DEPTH },
  );
}

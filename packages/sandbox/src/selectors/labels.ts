// Label selectors as k8s.io/apimachinery/pkg/labels parses and matches them: the string form
// (query parameter labelSelector) and the structured form (spec.selector of Deployments, PDBs...).
import type { ApiError } from '../errors.js';
import { errors } from '../errors.js';

export type LabelOp = 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export type Labels = Readonly<Record<string, string>>;

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A qualified name: [prefix/]name, prefix a DNS subdomain (<=253), name <=63. Returns a reason or undefined. */
export function qualifiedNameError(key: string): string | undefined {
  const parts = key.split('/');
  let name = key;
  if (parts.length === 2) {
    const [prefix, n] = parts as [string, string];
    if (!prefix) return 'prefix part must be non-empty';
    if (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))
      return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    name = n;
  } else if (parts.length > 2) {
    return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
  }
  if (!name) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  return undefined;
}

export function labelValueError(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!NAME.test(value))
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  return undefined;
}

function parseError(selector: string, why: string): ApiError {
  return errors.badRequest(`unable to parse requirement: ${why}`);
}

// A small tokenizer: identifiers are runs of anything but whitespace and the operator characters.
type Tok = { t: 'id' | '!' | '=' | '==' | '!=' | '(' | ')' | ',' | 'in' | 'notin' | '>' | '<' | 'end'; v: string };
function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    if (c === '!' && s[i + 1] === '=') {
      out.push({ t: '!=', v: '!=' });
      i += 2;
      continue;
    }
    if (c === '=' && s[i + 1] === '=') {
      out.push({ t: '==', v: '==' });
      i += 2;
      continue;
    }
    if ('!=(),<>'.includes(c)) {
      out.push({ t: c as Tok['t'], v: c });
      i++;
      continue;
    }
    let j = i;
    while (j < s.length && !' \t\n!=(),<>'.includes(s[j]!)) j++;
    const word = s.slice(i, j);
    out.push({ t: word === 'in' ? 'in' : word === 'notin' ? 'notin' : 'id', v: word });
    i = j;
  }
  out.push({ t: 'end', v: '' });
  return out;
}

/** Parses the string form; throws ApiError 400 as kube-apiserver does for a bad selector. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  const toks = tokenize(selector);
  let p = 0;
  const peek = (): Tok => toks[p]!;
  const next = (): Tok => toks[p++]!;
  const reqs: LabelRequirement[] = [];
  if (peek().t === 'end') return reqs;
  for (;;) {
    let negate = false;
    if (peek().t === '!') {
      next();
      negate = true;
    }
    const keyTok = next();
    if (keyTok.t !== 'id') throw parseError(selector, `found '${keyTok.v}', expected: identifier`);
    const key = keyTok.v;
    const kerr = qualifiedNameError(key);
    if (kerr) throw parseError(selector, `invalid label key "${key}": ${kerr}`);
    if (negate) {
      reqs.push({ key, op: '!', values: [] });
    } else {
      const op = peek();
      if (op.t === ',' || op.t === 'end') {
        reqs.push({ key, op: 'exists', values: [] });
      } else if (op.t === '=' || op.t === '==' || op.t === '!=' || op.t === '>' || op.t === '<') {
        next();
        const v = peek();
        let value = '';
        if (v.t === 'id') {
          value = v.v;
          next();
        } else if (v.t !== ',' && v.t !== 'end') throw parseError(selector, `found '${v.v}', expected: identifier`);
        if (op.t === '>' || op.t === '<') {
          if (!/^-?\d+$/.test(value))
            throw parseError(selector, `for 'Gt', 'Lt' operators, the value must be an integer`);
        } else {
          const verr = labelValueError(value);
          if (verr) throw parseError(selector, `invalid label value: "${value}": at key: "${key}": ${verr}`);
        }
        reqs.push({ key, op: op.t === '!=' ? '!=' : op.t === '>' ? 'gt' : op.t === '<' ? 'lt' : '=', values: [value] });
      } else if (op.t === 'in' || op.t === 'notin') {
        next();
        if (next().t !== '(') throw parseError(selector, `found '${toks[p - 1]!.v}', expected: '('`);
        const values: string[] = [];
        for (;;) {
          const v = next();
          if (v.t === ')') {
            if (values.length === 0 || toks[p - 2]!.t === ',') values.push('');
            break;
          }
          if (v.t === ',') {
            if (toks[p - 2]!.t === '(' || toks[p - 2]!.t === ',') values.push('');
            continue;
          }
          if (v.t !== 'id') throw parseError(selector, `found '${v.v}', expected: ',', ')' or identifier`);
          const verr = labelValueError(v.v);
          if (verr) throw parseError(selector, `invalid label value: "${v.v}": at key: "${key}": ${verr}`);
          values.push(v.v);
        }
        reqs.push({ key, op: op.t, values: [...new Set(values)].sort() });
      } else {
        throw parseError(selector, `found '${op.v}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    const sep = next();
    if (sep.t === 'end') break;
    if (sep.t !== ',') throw parseError(selector, `found '${sep.v}', expected: ',' or 'end of string'`);
  }
  return reqs;
}

export function matchRequirement(r: LabelRequirement, labels: Labels | undefined): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels[r.key]! : undefined;
  switch (r.op) {
    case 'exists':
      return has;
    case '!':
      return !has;
    case '=':
    case 'in':
      return has && r.values.includes(v!);
    case '!=':
    case 'notin':
      return !has || !r.values.includes(v!);
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(v!)) return false;
      const a = BigInt(v!),
        b = BigInt(r.values[0]!);
      return r.op === 'gt' ? a > b : a < b;
    }
  }
}

export function matchLabels(reqs: readonly LabelRequirement[], labels: Labels | undefined): boolean {
  return reqs.every((r) => matchRequirement(r, labels));
}

/** metav1.LabelSelector: { matchLabels, matchExpressions: [{ key, operator: In|NotIn|Exists|DoesNotExist, values }] }. */
export interface StructuredSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Converts the structured form; an empty selector matches everything, as LabelSelectorAsSelector does. */
export function fromStructured(sel: StructuredSelector | undefined | null): LabelRequirement[] {
  if (!sel) return [];
  const reqs: LabelRequirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({
    key,
    op: '=' as const,
    values: [v],
  }));
  for (const e of sel.matchExpressions ?? []) {
    const op: LabelOp =
      e.operator === 'In' ? 'in' : e.operator === 'NotIn' ? 'notin' : e.operator === 'Exists' ? 'exists' : '!';
    reqs.push({ key: e.key, op, values: [...(e.values ?? [])] });
  }
  return reqs;
}

/** The string form, as Selector.String() renders it (scale.status.selector, kubectl describe). */
export function formatSelector(reqs: readonly LabelRequirement[]): string {
  return [...reqs]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case '!':
          return `!${r.key}`;
        case '=':
          return `${r.key}=${r.values[0] ?? ''}`;
        case '!=':
          return `${r.key}!=${r.values[0] ?? ''}`;
        case 'in':
          return `${r.key} in (${r.values.join(',')})`;
        case 'notin':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'gt':
          return `${r.key}>${r.values[0]}`;
        case 'lt':
          return `${r.key}<${r.values[0]}`;
      }
    })
    .join(',');
}

// Compares two battery runs record by record and field by field, applies the allowlist and
// renders the fidelity report.
import { isDeepStrictEqual } from 'node:util';
import type { AllowlistEntry } from './allowlist.js';
import type { BatteryRun, ExpectationMismatch, RequestRecord } from './battery.js';

export class AllowlistError extends Error {
  override readonly name = 'AllowlistError';
}

export interface Difference {
  step: string;
  request: string;
  /** A field name, or '(record)' when one run has no such request. */
  field: string;
  reference: unknown;
  candidate: unknown;
  allowedBy?: AllowlistEntry;
}

export interface Comparison {
  reference: string;
  candidate: string;
  requestsCompared: number;
  fieldsCompared: number;
  differences: Difference[];
  allowlisted: Difference[];
  unusedAllowlist: AllowlistEntry[];
  stepErrors: { run: string; step: string; error: string }[];
}

const key = (r: Pick<RequestRecord, 'step' | 'request'>): string => `${r.step}\u0000${r.request}`;
const matches = (pattern: string, value: string): boolean => pattern === '*' || pattern === value;

export function compareRuns(
  reference: BatteryRun,
  candidate: BatteryRun,
  allowlist: readonly AllowlistEntry[],
): Comparison {
  for (const e of allowlist) {
    if (!e.reason.trim()) throw new AllowlistError(`allowlist entry ${e.step}/${e.request}/${e.field} has no reason`);
  }
  const used = new Set<AllowlistEntry>();
  const out: Comparison = {
    reference: reference.label,
    candidate: candidate.label,
    requestsCompared: 0,
    fieldsCompared: 0,
    differences: [],
    allowlisted: [],
    unusedAllowlist: [],
    stepErrors: [
      ...reference.stepErrors.map((e) => ({ run: reference.label, ...e })),
      ...candidate.stepErrors.map((e) => ({ run: candidate.label, ...e })),
    ],
  };
  const add = (d: Difference): void => {
    const entry = allowlist.find(
      (e) => matches(e.step, d.step) && matches(e.request, d.request) && matches(e.field, d.field),
    );
    if (entry) {
      used.add(entry);
      out.allowlisted.push({ ...d, allowedBy: entry });
    } else out.differences.push(d);
  };
  const cand = new Map(candidate.records.map((r) => [key(r), r]));
  const seen = new Set<string>();
  for (const ref of reference.records) {
    const other = cand.get(key(ref));
    seen.add(key(ref));
    if (!other) {
      add({ step: ref.step, request: ref.request, field: '(record)', reference: 'present', candidate: 'missing' });
      continue;
    }
    out.requestsCompared++;
    // Missing and undefined are the same: a normalizer writes undefined for an absent value.
    for (const field of new Set([...Object.keys(ref.fields), ...Object.keys(other.fields)])) {
      out.fieldsCompared++;
      if (!isDeepStrictEqual(ref.fields[field], other.fields[field])) {
        add({
          step: ref.step,
          request: ref.request,
          field,
          reference: ref.fields[field],
          candidate: other.fields[field],
        });
      }
    }
  }
  for (const r of candidate.records) {
    if (!seen.has(key(r)))
      add({ step: r.step, request: r.request, field: '(record)', reference: 'missing', candidate: 'present' });
  }
  out.unusedAllowlist = allowlist.filter((e) => !used.has(e));
  return out;
}

const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));

export interface ExpectationSummary {
  label: string;
  requests: number;
  mismatches: ExpectationMismatch[];
}

/** The human-readable report: counts first, then every difference and allowlisted difference. */
export function fidelityReport(
  c: Comparison | undefined,
  expectations: readonly ExpectationSummary[],
  note?: string,
): string {
  const lines: string[] = [];
  lines.push(c ? `Fidelity report: ${c.candidate} vs ${c.reference}` : 'Fidelity report: no second endpoint compared');
  if (note) lines.push(`  note: ${note}`);
  for (const e of expectations) {
    lines.push(`  expectations (${e.label}): ${e.requests} requests checked, ${e.mismatches.length} unmet`);
    for (const m of e.mismatches)
      lines.push(
        `    UNMET ${m.step} / ${m.request} / ${m.field}: expected ${show(m.expected)}, got ${show(m.actual)}`,
      );
  }
  if (c) {
    lines.push(`  requests compared: ${c.requestsCompared} (${c.fieldsCompared} fields)`);
    lines.push(`  differences: ${c.differences.length}`);
    for (const d of c.differences)
      lines.push(
        `    DIFF ${d.step} / ${d.request} / ${d.field}: reference ${show(d.reference)}, ${c.candidate} ${show(d.candidate)}`,
      );
    lines.push(`  allowlisted: ${c.allowlisted.length}`);
    for (const d of c.allowlisted) {
      lines.push(
        `    ALLOWED ${d.step} / ${d.request} / ${d.field}: reference ${show(d.reference)}, ${c.candidate} ${show(d.candidate)} — ${d.allowedBy?.reason ?? ''}`,
      );
    }
    if (c.unusedAllowlist.length) {
      lines.push(`  unused allowlist entries: ${c.unusedAllowlist.length}`);
      for (const e of c.unusedAllowlist) lines.push(`    UNUSED ${e.step} / ${e.request} / ${e.field} — ${e.reason}`);
    }
    for (const e of c.stepErrors) lines.push(`  STEP ERROR (${e.run}) ${e.step}: ${e.error}`);
  }
  return lines.join('\n');
}

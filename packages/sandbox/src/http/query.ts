// Query parameters of API requests, parsed and checked the way kube-apiserver's
// parameter codec does (a bad dryRun is 422 on the *Options kind, a bad number 400).
import { errors } from '../errors.js';
import type { FieldValidation } from '../storage/rest.js';

const OPTIONS_KIND: Record<string, string> = {
  create: 'CreateOptions',
  update: 'UpdateOptions',
  patch: 'PatchOptions',
  delete: 'DeleteOptions',
  deletecollection: 'DeleteOptions',
};

export function dryRunOf(q: URLSearchParams, verb: string): boolean {
  const values = q.getAll('dryRun');
  if (!values.length) return false;
  for (const v of values) {
    if (v !== 'All') {
      throw errors.invalid(OPTIONS_KIND[verb] ?? 'CreateOptions', 'meta.k8s.io', '', [
        { type: 'FieldValueNotSupported', field: 'dryRun', value: values, detail: 'supported values: "All"' },
      ]);
    }
  }
  return true;
}

export function fieldValidationOf(q: URLSearchParams, verb: string): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw errors.invalid(OPTIONS_KIND[verb] ?? 'CreateOptions', 'meta.k8s.io', '', [
    {
      type: 'FieldValueNotSupported',
      field: 'fieldValidation',
      value: v,
      detail: 'supported values: "Ignore", "Strict", "Warn"',
    },
  ]);
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw errors.badRequest(`invalid ${name}: ${v}`);
  return Number(v);
}

export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

/** A continue token: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}, as etcd3's store encodes it. */
export function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` })).toString('base64url');
}

export function decodeContinue(token: string): { rv: number; start: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw errors.badRequest(
      `invalid continue token: continue key is not valid: invalid character looking for beginning of value`,
    );
  }
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (p?.v !== 'meta.k8s.io/v1' || typeof p.rv !== 'number' || typeof p.start !== 'string') {
    throw errors.badRequest(
      'invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  }
  return { rv: p.rv, start: p.start };
}

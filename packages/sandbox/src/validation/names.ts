// Name, label, annotation and quantity rules of k8s.io/apimachinery/pkg/util/validation,
// with the messages kube-apiserver writes into 422 causes.
import { labelValueError, qualifiedNameError } from '../selectors/labels.js';
import { invalid, required, type FieldError } from './fieldErrors.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export type NameRule = 'subdomain' | 'label' | 'path-segment';

export function nameError(name: string, rule: NameRule): string | undefined {
  if (rule === 'path-segment') {
    if (name === '.' || name === '..') return `may not be '${name}'`;
    if (name.includes('/')) return "may not contain '/'";
    if (name.includes('%')) return "may not contain '%'";
    return undefined;
  }
  if (rule === 'label') {
    if (name.length > 63) return 'must be no more than 63 characters';
    if (!DNS1123_LABEL.test(name))
      return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    return undefined;
  }
  if (name.length > 253) return 'must be no more than 253 characters';
  if (!DNS1123_SUBDOMAIN.test(name))
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  return undefined;
}

export function validateLabels(labels: unknown, field: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    const ke = qualifiedNameError(k);
    if (ke) out.push(invalid(field, k, ke));
    const ve = typeof v === 'string' ? labelValueError(v) : 'must be a string';
    if (ve) out.push(invalid(field, v, ve));
  }
  return out;
}

export function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  const out: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations as Record<string, unknown>)) {
    const ke = qualifiedNameError(k.toLowerCase());
    if (ke) out.push(invalid(field, k, ke));
    size += k.length + String(v).length;
  }
  if (size > 256 * 1024) out.push({ type: 'FieldValueTooLong', field, detail: 'may not be more than 262144 bytes' });
  return out;
}

/** Name of an object being created: required unless generateName, then the kind's rule. */
export function validateName(meta: Record<string, unknown>, rule: NameRule): FieldError[] {
  const name = meta.name;
  if (typeof name !== 'string' || name === '') {
    return meta.generateName ? [] : [required('metadata.name', 'name or generateName is required')];
  }
  const e = nameError(name, rule);
  return e ? [invalid('metadata.name', name, e)] : [];
}

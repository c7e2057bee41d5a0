// APIService validation as kube-aggregator's ValidateAPIService: the name is
// `<version>.<group>`, priorities within their ranges, and a local APIService (no service) may
// carry no TLS settings; a service-backed one needs the service's namespace, name and a port.
import { invalid, required, type FieldError } from './fieldErrors.js';
import { nameError } from './names.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_MESSAGE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

function versionErrors(version: string): string[] {
  const out: string[] = [];
  if (version.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(version)) out.push(DNS1035_MESSAGE);
  return out;
}

const caBundleSize = (v: unknown): number => (typeof v === 'string' ? Buffer.from(v, 'base64').length : 0);

/** The name must be `version.group` (validateMeta has already checked it is a path segment). */
export function validateAPIServiceName(o: Obj): FieldError[] {
  const name = obj(o.metadata).name;
  if (typeof name !== 'string' || !name || nameError(name, 'path-segment')) return [];
  const spec = obj(o.spec);
  const expected = `${String(spec.version ?? '')}.${String(spec.group ?? '')}`;
  return name === expected
    ? []
    : [invalid('metadata.name', name, `must be \`spec.version+"."+spec.group\`: ${JSON.stringify(expected)}`)];
}

export function validateAPIServiceSpec(o: Obj): FieldError[] {
  const spec = obj(o.spec);
  const group = String(spec.group ?? '');
  const version = String(spec.version ?? '');
  const out: FieldError[] = [];
  if (!group && version !== 'v1')
    out.push(required('spec.group', 'only v1 may have an empty group and it better be legacy kube'));
  if (group) {
    const e = nameError(group, 'subdomain');
    if (e) out.push(invalid('spec.group', group, e));
  }
  for (const e of versionErrors(version)) out.push(invalid('spec.version', version, e));
  const gpm = Number(spec.groupPriorityMinimum ?? 0);
  if (!(gpm > 0 && gpm <= 20000))
    out.push(invalid('spec.groupPriorityMinimum', gpm, 'must be positive and less than 20000'));
  const vp = Number(spec.versionPriority ?? 0);
  if (!(vp > 0 && vp <= 1000)) out.push(invalid('spec.versionPriority', vp, 'must be positive and less than 1000'));
  const bundle = caBundleSize(spec.caBundle);
  const insecure = spec.insecureSkipTLSVerify === true;
  if (spec.service === undefined || spec.service === null) {
    if (bundle) out.push(invalid('spec.caBundle', `${bundle} bytes`, 'local APIServices may not have a caBundle'));
    if (insecure)
      out.push(invalid('spec.insecureSkipTLSVerify', true, 'local APIServices may not have insecureSkipTLSVerify'));
    return out;
  }
  const service = obj(spec.service);
  if (!service.namespace) out.push(required('spec.service.namespace'));
  if (!service.name) out.push(required('spec.service.name'));
  const port = service.port;
  if (typeof port !== 'number' || port < 1 || port > 65535)
    out.push(invalid('spec.service.port', port, 'port is not valid: must be between 1 and 65535, inclusive'));
  if (insecure && bundle)
    out.push(invalid('spec.insecureSkipTLSVerify', true, 'may not be true if caBundle is present'));
  return out;
}

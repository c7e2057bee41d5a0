// Endpoint addresses as kube-apiserver validates them (ValidateNonSpecialIP): an endpoint must be
// an address other hosts could reach, so the unspecified, loopback and link-local ranges are
// refused in Endpoints and EndpointSlices alike. (Why the sandbox's pods get IPs of their own.)
import { invalid, type FieldError } from './fieldErrors.js';

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

function specialRange(ip: string): string | undefined {
  if (ip === '0.0.0.0' || ip === '::') return 'may not be unspecified (0.0.0.0, ::)';
  if (/^127\./.test(ip) || ip === '::1') return 'may not be in the loopback range (127.0.0.0/8, ::1/128)';
  if (/^169\.254\./.test(ip) || /^fe[89ab]/i.test(ip))
    return 'may not be in the link-local range (169.254.0.0/16, fe80::/10)';
  if (/^224\.0\.0\./.test(ip) || /^ff02:/i.test(ip))
    return 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)';
  return undefined;
}

export function validateEndpointsAddresses(o: Obj): FieldError[] {
  const out: FieldError[] = [];
  arr(o.subsets).forEach((s, i) => {
    for (const list of ['addresses', 'notReadyAddresses']) {
      arr(s[list]).forEach((a, j) => {
        const why = specialRange(String(a.ip ?? ''));
        if (why) out.push(invalid(`subsets[${i}].${list}[${j}].ip`, a.ip, why));
      });
    }
  });
  return out;
}

export function validateEndpointSliceAddresses(o: Obj): FieldError[] {
  const out: FieldError[] = [];
  arr(o.endpoints).forEach((e, i) => {
    ((e.addresses ?? []) as unknown[]).forEach((a, j) => {
      const why = specialRange(String(a));
      if (why) out.push(invalid(`endpoints[${i}].addresses[${j}]`, a, why));
    });
  });
  return out;
}

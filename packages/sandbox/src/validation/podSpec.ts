// PodSpec validation (the part of ValidatePodSpec that clients trip over): containers, names,
// images, ports, env, resources, restart policy, volumes and their mounts.
import { duplicate, invalid, notSupported, required, type FieldError } from './fieldErrors.js';
import { nameError } from './names.js';
import { quantityValue } from './quantity.js';

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

export function validatePodSpec(
  spec: Obj | undefined,
  path: string,
  opts: { templateRestartAlways?: boolean } = {},
): FieldError[] {
  const out: FieldError[] = [];
  if (!spec || typeof spec !== 'object') return [required(path, '')];
  const volumes = new Set<string>();
  arr(spec.volumes).forEach((v, i) => {
    const p = `${path}.volumes[${i}]`;
    if (typeof v.name !== 'string' || !v.name) out.push(required(`${p}.name`, ''));
    else {
      const e = nameError(v.name, 'label');
      if (e) out.push(invalid(`${p}.name`, v.name, e));
      if (volumes.has(v.name)) out.push(duplicate(`${p}.name`, v.name));
      volumes.add(v.name);
    }
  });
  const containers = arr(spec.containers);
  if (containers.length === 0) out.push(required(`${path}.containers`, ''));
  const names = new Set<string>();
  const check = (list: Obj[], field: string): void =>
    list.forEach((c, i) => out.push(...validateContainer(c, `${path}.${field}[${i}]`, names, volumes)));
  check(arr(spec.initContainers), 'initContainers');
  check(containers, 'containers');
  const rp = spec.restartPolicy;
  const allowed = opts.templateRestartAlways ? ['Always'] : ['Always', 'OnFailure', 'Never'];
  if (rp !== undefined && !allowed.includes(String(rp))) out.push(notSupported(`${path}.restartPolicy`, rp, allowed));
  const dns = spec.dnsPolicy;
  if (dns !== undefined && !['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(String(dns))) {
    out.push(notSupported(`${path}.dnsPolicy`, dns, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']));
  }
  if (spec.serviceAccountName !== undefined && spec.serviceAccountName !== '') {
    const e = nameError(String(spec.serviceAccountName), 'subdomain');
    if (e) out.push(invalid(`${path}.serviceAccountName`, spec.serviceAccountName, e));
  }
  const tg = spec.terminationGracePeriodSeconds;
  if (typeof tg === 'number' && tg < 0)
    out.push(invalid(`${path}.terminationGracePeriodSeconds`, tg, 'must be greater than or equal to 0'));
  return out;
}

function validateContainer(c: Obj, p: string, names: Set<string>, volumes: Set<string>): FieldError[] {
  const out: FieldError[] = [];
  if (typeof c.name !== 'string' || !c.name) out.push(required(`${p}.name`, ''));
  else {
    const e = nameError(c.name, 'label');
    if (e) out.push(invalid(`${p}.name`, c.name, e));
    if (names.has(c.name)) out.push(duplicate(`${p}.name`, c.name));
    names.add(c.name);
  }
  if (typeof c.image !== 'string' || !c.image.trim()) out.push(required(`${p}.image`, ''));
  arr(c.ports).forEach((port, i) => {
    const cp = port.containerPort;
    if (cp === undefined) out.push(required(`${p}.ports[${i}].containerPort`, ''));
    else if (typeof cp !== 'number' || cp < 1 || cp > 65535)
      out.push(invalid(`${p}.ports[${i}].containerPort`, cp, 'must be between 1 and 65535, inclusive'));
    if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(String(port.protocol))) {
      out.push(notSupported(`${p}.ports[${i}].protocol`, port.protocol, ['SCTP', 'TCP', 'UDP']));
    }
  });
  arr(c.env).forEach((e, i) => {
    if (typeof e.name !== 'string' || !e.name) out.push(required(`${p}.env[${i}].name`, ''));
  });
  arr(c.volumeMounts).forEach((m, i) => {
    if (typeof m.name !== 'string' || !m.name) out.push(required(`${p}.volumeMounts[${i}].name`, ''));
    else if (!volumes.has(m.name))
      out.push({ type: 'FieldValueNotFound', field: `${p}.volumeMounts[${i}].name`, value: m.name, detail: '' });
    if (typeof m.mountPath !== 'string' || !m.mountPath) out.push(required(`${p}.volumeMounts[${i}].mountPath`, ''));
  });
  const res = (c.resources ?? {}) as Obj;
  for (const kind of ['requests', 'limits'] as const) {
    const q = (res[kind] ?? {}) as Obj;
    for (const [name, v] of Object.entries(q)) {
      if ((quantityValue(v) ?? 0) < 0)
        out.push(invalid(`${p}.resources.${kind}[${name}]`, v, 'must be greater than or equal to 0'));
    }
  }
  const req = (res.requests ?? {}) as Obj,
    lim = (res.limits ?? {}) as Obj;
  for (const [name, v] of Object.entries(req)) {
    if (lim[name] !== undefined && (quantityValue(v) ?? 0) > (quantityValue(lim[name]) ?? Infinity)) {
      out.push(
        invalid(`${p}.resources.requests`, v, `must be less than or equal to ${name} limit of ${String(lim[name])}`),
      );
    }
  }
  return out;
}

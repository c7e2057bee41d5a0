// A minimal OpenAPI v3 (/openapi/v3 and /openapi/v3/<api|apis/group/version>). kubectl and helm
// read it for one thing that matters here: whether a kind's PATCH accepts `fieldValidation`, so
// they leave validation to the server instead of validating against a schema client-side. The
// documents therefore list each resource's operations with their x-kubernetes-group-version-kind
// and query parameters, and no schemas: kubectl's apply then computes strategic merge patches
// from its compiled-in Go types, as it does against servers without OpenAPI schemas.
import { createHash } from 'node:crypto';
import { RESOURCES, apiVersionOf, groupVersions } from '../resources/registry.js';

const param = (name: string) => ({
  name,
  in: 'query',
  schema: { type: name === 'dryRun' || name === 'fieldManager' || name === 'fieldValidation' ? 'string' : 'boolean' },
  uniqueItems: true,
});
const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation'].map(param);

function pathOf(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openApiDocument(group: string, version: string): Record<string, unknown> | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (!defs.length) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of defs) {
    const gvk = { 'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind } };
    const base = `/${pathOf(group, version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}`;
    if (r.createOnly) {
      paths[base] = { post: { ...gvk, 'x-kubernetes-action': 'post', parameters: WRITE_PARAMS, responses: {} } };
      continue;
    }
    paths[base] = {
      get: { ...gvk, 'x-kubernetes-action': 'list', responses: {} },
      post: { ...gvk, 'x-kubernetes-action': 'post', parameters: WRITE_PARAMS, responses: {} },
    };
    paths[`${base}/{name}`] = {
      get: { ...gvk, 'x-kubernetes-action': 'get', responses: {} },
      put: { ...gvk, 'x-kubernetes-action': 'put', parameters: WRITE_PARAMS, responses: {} },
      patch: { ...gvk, 'x-kubernetes-action': 'patch', parameters: [...WRITE_PARAMS, param('force')], responses: {} },
      delete: { ...gvk, 'x-kubernetes-action': 'delete', responses: {} },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.34.12' }, paths, components: { schemas: {} } };
}

const docHash = (group: string, version: string): string =>
  createHash('sha512')
    .update(JSON.stringify(openApiDocument(group, version)))
    .digest('hex')
    .toUpperCase();

export function openApiIndex(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const { group, version } of groupVersions()) {
    const p = pathOf(group, version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${docHash(group, version)}` };
  }
  return { paths };
}

export { apiVersionOf };

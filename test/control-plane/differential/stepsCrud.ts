// Battery steps for reads and writes: create/get/delete, updates and conflicts, validation,
// selectors, paging, dry runs and the three patch types. Expected values were proven against
// kube-apiserver v1.34.12; each request names what it compares through its normalizer.
import type { Step } from './battery.js';
import {
  JSON_PATCH,
  MERGE,
  STRATEGIC,
  alreadyExists,
  badRequest,
  configMap,
  conflict,
  core,
  grouped,
  invalid,
  notFound,
  pod,
  resourceVersionOf,
} from './kit.js';
import { fields, list, object, status, type Normalizer } from './normalize.js';

const created = (kind: string, name: string, rv: string): Record<string, unknown> => ({
  http: 201,
  kind,
  'metadata.name': name,
  'metadata.resourceVersion': rv,
});

/** Adds the Warning header (kubectl prints it), e.g. for unknown fields under fieldValidation=Warn. */
const warned =
  (n: Normalizer): Normalizer =>
  (res, ctx) => ({ ...n(res, ctx), warning: res.headers.warning });

export const createGet: Step = {
  name: 'create-get',
  async run(c) {
    const ns = await c.namespace();
    const cms = core(ns, 'configmaps');
    await c.call(
      'create',
      { method: 'POST', path: cms, body: configMap('alpha', { app: 'web', tier: 'front' }, { k: 'v' }) },
      object('data'),
      {
        ...created('ConfigMap', 'alpha', 'rv1:new:newest'),
        'metadata.namespace': '{ns}',
        'metadata.labels': { app: 'web', tier: 'front' },
        'metadata.uid?': true,
        'metadata.creationTimestamp?': true,
        data: { k: 'v' },
      },
    );
    await c.call('get', { path: core(ns, 'configmaps', 'alpha') }, object('data'), {
      http: 200,
      'metadata.resourceVersion': 'rv1',
      data: { k: 'v' },
    });
    await c.call('list', { path: cms }, list(), {
      http: 200,
      kind: 'ConfigMapList',
      items: ['alpha'],
      'metadata.continue?': false,
      'metadata.resourceVersion': 'present:current',
    });
    await c.call(
      'create with generateName',
      { method: 'POST', path: cms, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } } },
      object(),
      {
        http: 201,
        'metadata.name': 'gen-<5 random>',
        'metadata.generateName': 'gen-',
        'metadata.resourceVersion': 'rv2:new:newest',
      },
    );
    await c.call(
      'create without name',
      { method: 'POST', path: cms, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} } },
      status(),
      invalid('ConfigMap', undefined, ['metadata.name|FieldValueRequired']),
    );
    await c.call(
      'create existing',
      { method: 'POST', path: cms, body: configMap('alpha') },
      status(),
      alreadyExists('configmaps', 'alpha'),
    );
    await c.call('get missing', { path: core(ns, 'configmaps', 'nope') }, status(), notFound('configmaps', 'nope'));
    await c.call(
      'create in missing namespace',
      { method: 'POST', path: core(c.nsName('missing'), 'configmaps'), body: configMap('alpha') },
      status(),
      notFound('namespaces', '{ns-missing}'),
    );
    await c.call('delete', { method: 'DELETE', path: core(ns, 'configmaps', 'alpha') }, status(), {
      http: 200,
      kind: 'Status',
      status: 'Success',
      'details.name': 'alpha',
      'details.kind': 'configmaps',
    });
    await c.call('get deleted', { path: core(ns, 'configmaps', 'alpha') }, status(), notFound('configmaps', 'alpha'));
    await c.call(
      'delete missing',
      { method: 'DELETE', path: core(ns, 'configmaps', 'alpha') },
      status(),
      notFound('configmaps', 'alpha'),
    );
  },
};

export const update: Step = {
  name: 'update',
  async run(c) {
    const ns = await c.namespace();
    const path = core(ns, 'configmaps', 'u');
    const first = await c.call(
      'create',
      { method: 'POST', path: core(ns, 'configmaps'), body: configMap('u', undefined, { a: '1' }) },
      object('data'),
      created('ConfigMap', 'u', 'rv1:new:newest'),
    );
    const rv1 = resourceVersionOf(first);
    const withRv = (rv: string | undefined, data: Record<string, string>, name = 'u'): object => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, ...(rv ? { resourceVersion: rv } : {}) },
      data,
    });
    await c.call(
      'update with current resourceVersion',
      { method: 'PUT', path, body: withRv(rv1, { a: '2' }) },
      object('data'),
      { http: 200, 'metadata.resourceVersion': 'rv2:new:newest', data: { a: '2' } },
    );
    await c.call(
      'update with stale resourceVersion',
      { method: 'PUT', path, body: withRv(rv1, { a: '3' }) },
      status(),
      conflict('configmaps', 'u'),
    );
    await c.call(
      'update without resourceVersion',
      { method: 'PUT', path, body: withRv(undefined, { a: '4' }) },
      object('data'),
      { http: 200, 'metadata.resourceVersion': 'rv3:new:newest', data: { a: '4' } },
    );
    await c.call(
      'update with mismatched name',
      { method: 'PUT', path, body: withRv(undefined, { a: '5' }, 'other') },
      status(),
      badRequest,
    );
    await c.call(
      'update missing',
      { method: 'PUT', path: core(ns, 'configmaps', 'zz'), body: withRv(undefined, {}, 'zz') },
      status(),
      notFound('configmaps', 'zz'),
    );
    await c.call('get after updates', { path }, object('data'), {
      http: 200,
      'metadata.resourceVersion': 'rv3',
      data: { a: '4' },
    });
  },
};

export const validation: Step = {
  name: 'invalid',
  async run(c) {
    const ns = await c.namespace();
    const cms = core(ns, 'configmaps');
    const pods = core(ns, 'pods');
    const cpu = (q: string) => [{ name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: q } } }];
    await c.call(
      'bad name',
      { method: 'POST', path: cms, body: configMap('Bad_Name') },
      status(),
      invalid('ConfigMap', 'Bad_Name', ['metadata.name|FieldValueInvalid']),
    );
    await c.call(
      'bad label value',
      { method: 'POST', path: cms, body: configMap('ok', { app: 'bad value!' }) },
      status(),
      invalid('ConfigMap', 'ok', ['metadata.labels|FieldValueInvalid']),
    );
    await c.call(
      'pod without containers',
      { method: 'POST', path: pods, body: pod('p', undefined, []) },
      status(),
      invalid('Pod', 'p', ['spec.containers|FieldValueRequired']),
    );
    await c.call(
      'negative quantity',
      { method: 'POST', path: pods, body: pod('p', undefined, cpu('-1')) },
      status(),
      invalid('Pod', 'p', ['spec.containers[0].resources.requests[cpu]|FieldValueInvalid']),
    );
    // Not 422: a quantity that does not parse fails while decoding the body, before validation.
    await c.call(
      'unparseable quantity',
      { method: 'POST', path: pods, body: pod('p', undefined, cpu('lots')) },
      status(),
      badRequest,
    );
    await c.call(
      'unknown field, strict',
      { method: 'POST', path: `${cms}?fieldValidation=Strict`, body: { ...configMap('strict'), spec: { x: 1 } } },
      status(),
      badRequest,
    );
    await c.call(
      'unknown field, warn',
      { method: 'POST', path: `${cms}?fieldValidation=Warn`, body: { ...configMap('warned'), spec: { x: 1 } } },
      warned(object()),
      { http: 201, 'metadata.name': 'warned', warning: '299 - "unknown field \\"spec\\""' },
    );
    await c.call(
      'namespace mismatch',
      { method: 'POST', path: cms, body: { ...configMap('x'), metadata: { name: 'x', namespace: 'elsewhere' } } },
      status(),
      badRequest,
    );
  },
};

export const selectors: Step = {
  name: 'selectors',
  async run(c) {
    const ns = await c.namespace();
    const pods = core(ns, 'pods');
    const labels: [string, Record<string, string>][] = [
      ['p1', { app: 'web', env: 'prod' }],
      ['p2', { app: 'web', env: 'dev' }],
      ['p3', { app: 'db', env: 'prod' }],
      ['p4', { app: 'db' }],
      ['p5', { app: 'cache', env: 'staging' }],
    ];
    for (const [name, l] of labels) {
      await c.call(
        `create ${name}`,
        { method: 'POST', path: pods, body: pod(name, l) },
        object('spec.schedulerName', 'status.phase'),
        { http: 201, 'metadata.name': name, 'metadata.labels': l, 'status.phase': 'Pending' },
      );
    }
    await c.call(
      'set p3 Running (status subresource)',
      {
        method: 'PATCH',
        path: core(ns, 'pods', 'p3/status'),
        contentType: MERGE,
        body: { status: { phase: 'Running' } },
      },
      object('status.phase'),
      { http: 200, 'status.phase': 'Running' },
    );
    const sel: [string, Record<string, string>, string[]][] = [
      ['label =', { labelSelector: 'app=web' }, ['p1', 'p2']],
      ['label !=', { labelSelector: 'app!=web' }, ['p3', 'p4', 'p5']],
      ['label in', { labelSelector: 'env in (prod,staging)' }, ['p1', 'p3', 'p5']],
      ['label notin (matches absent)', { labelSelector: 'env notin (prod)' }, ['p2', 'p4', 'p5']],
      ['label exists', { labelSelector: 'env' }, ['p1', 'p2', 'p3', 'p5']],
      ['label does not exist', { labelSelector: '!env' }, ['p4']],
      ['label and', { labelSelector: 'app=web,env=prod' }, ['p1']],
      ['label no match', { labelSelector: 'app=none' }, []],
      ['field metadata.name', { fieldSelector: 'metadata.name=p2' }, ['p2']],
      ['field status.phase', { fieldSelector: 'status.phase=Running' }, ['p3']],
      ['field status.phase !=', { fieldSelector: 'status.phase!=Running' }, ['p1', 'p2', 'p4', 'p5']],
      ['label and field', { labelSelector: 'app=db', fieldSelector: 'status.phase=Pending' }, ['p4']],
    ];
    for (const [name, q, items] of sel)
      await c.call(name, { path: core(ns, 'pods', undefined, q) }, list(), { http: 200, kind: 'PodList', items });
    await c.call(
      'bad label selector',
      { path: core(ns, 'pods', undefined, { labelSelector: 'app in (' }) },
      status(),
      badRequest,
    );
    await c.call(
      'unsupported field selector',
      { path: core(ns, 'pods', undefined, { fieldSelector: 'spec.foo=bar' }) },
      status(),
      badRequest,
    );
  },
};

export const paging: Step = {
  name: 'paging',
  // Secrets, not ConfigMaps: no controller adds Opaque secrets to a namespace, so pages hold only ours.
  async run(c) {
    const ns = await c.namespace();
    for (let i = 1; i <= 7; i++) {
      await c.setup(`secret s0${i}`, {
        method: 'POST',
        path: core(ns, 'secrets'),
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: `s0${i}`, labels: { parity: i % 2 ? 'odd' : 'even' } },
          type: 'Opaque',
          stringData: { i: String(i) },
        },
      });
    }
    const page = (q: Record<string, string | number>) => ({ path: core(ns, 'secrets', undefined, q) });
    const cont = (res: { body: unknown }) =>
      String((res.body as { metadata: { continue?: string } }).metadata.continue ?? '');
    const p1 = await c.call('page 1', page({ limit: 3 }), list(), {
      http: 200,
      items: ['s01', 's02', 's03'],
      'metadata.continue?': true,
      'metadata.remainingItemCount': 4,
    });
    const p2 = await c.call('page 2', page({ limit: 3, continue: cont(p1) }), list(), {
      http: 200,
      items: ['s04', 's05', 's06'],
      'metadata.continue?': true,
      'metadata.remainingItemCount': 1,
    });
    await c.call('page 3', page({ limit: 3, continue: cont(p2) }), list(), {
      http: 200,
      items: ['s07'],
      'metadata.continue?': false,
      'metadata.remainingItemCount': undefined,
    });
    const s1 = await c.call('selector page 1', page({ limit: 2, labelSelector: 'parity=odd' }), list(), {
      http: 200,
      items: ['s01', 's03'],
      'metadata.continue?': true,
      'metadata.remainingItemCount': undefined,
    });
    await c.call('selector page 2', page({ limit: 2, labelSelector: 'parity=odd', continue: cont(s1) }), list(), {
      http: 200,
      items: ['s05', 's07'],
    });
    await c.call('garbage continue token', page({ limit: 3, continue: 'garbage' }), status(), badRequest);
  },
};

export const dryRun: Step = {
  name: 'dry-run',
  async run(c) {
    const ns = await c.namespace();
    const cms = core(ns, 'configmaps');
    await c.call(
      'create dryRun=All',
      { method: 'POST', path: `${cms}?dryRun=All`, body: configMap('dry', undefined, { a: '1' }) },
      object('data'),
      {
        http: 201,
        'metadata.name': 'dry',
        'metadata.uid?': true,
        'metadata.resourceVersion': 'absent',
        data: { a: '1' },
      },
    );
    await c.call(
      'get after dry create',
      { path: core(ns, 'configmaps', 'dry') },
      status(),
      notFound('configmaps', 'dry'),
    );
    await c.call(
      'create',
      { method: 'POST', path: cms, body: configMap('kept', undefined, { a: '1' }) },
      object('data'),
      created('ConfigMap', 'kept', 'rv1:new:newest'),
    );
    const kept = core(ns, 'configmaps', 'kept');
    await c.call(
      'patch dryRun=All',
      { method: 'PATCH', path: `${kept}?dryRun=All`, contentType: MERGE, body: { data: { a: '2' } } },
      object('data'),
      { http: 200, data: { a: '2' } },
    );
    await c.call('delete dryRun=All', { method: 'DELETE', path: `${kept}?dryRun=All` }, status(), {
      http: 200,
      status: 'Success',
      'details.name': 'kept',
    });
    await c.call('get after dry patch and delete', { path: kept }, object('data'), {
      http: 200,
      'metadata.resourceVersion': 'rv1',
      data: { a: '1' },
    });
    await c.call('dryRun=Yes', { method: 'POST', path: `${cms}?dryRun=Yes`, body: configMap('x') }, status(), {
      ...invalid('CreateOptions', undefined, ['dryRun|FieldValueNotSupported']),
      'details.group': 'meta.k8s.io',
    });
    await c.call(
      'invalid object dryRun=All',
      { method: 'POST', path: `${cms}?dryRun=All`, body: configMap('Bad_Name') },
      status(),
      invalid('ConfigMap', 'Bad_Name', ['metadata.name|FieldValueInvalid']),
    );
  },
};

export const patches: Step = {
  name: 'patch',
  async run(c) {
    const ns = await c.namespace();
    await c.setup('configmap pc', {
      method: 'POST',
      path: core(ns, 'configmaps'),
      body: configMap('pc', { x: '1', keep: 'y' }, { a: '1' }),
    });
    const pc = core(ns, 'configmaps', 'pc');
    await c.call(
      'json patch',
      {
        method: 'PATCH',
        path: pc,
        contentType: JSON_PATCH,
        body: [
          { op: 'add', path: '/data/b', value: '2' },
          { op: 'replace', path: '/data/a', value: '1x' },
          { op: 'remove', path: '/metadata/labels/x' },
        ],
      },
      object('data'),
      { http: 200, 'metadata.labels': { keep: 'y' }, data: { a: '1x', b: '2' } },
    );
    await c.call(
      'json patch failed test op',
      { method: 'PATCH', path: pc, contentType: JSON_PATCH, body: [{ op: 'test', path: '/data/a', value: 'nope' }] },
      status(),
      { http: 422, reason: 'Invalid' },
    );
    await c.call(
      'merge patch',
      {
        method: 'PATCH',
        path: pc,
        contentType: MERGE,
        body: { metadata: { labels: { y: '2', keep: null } }, data: { c: '3' } },
      },
      object('data'),
      { http: 200, 'metadata.labels': { y: '2' }, data: { a: '1x', b: '2', c: '3' } },
    );
    await c.call(
      'patch missing',
      { method: 'PATCH', path: core(ns, 'configmaps', 'missing'), contentType: MERGE, body: { data: {} } },
      status(),
      notFound('configmaps', 'missing'),
    );
    await c.call(
      'unsupported patch type',
      { method: 'PATCH', path: pc, contentType: 'application/yaml', body: 'data: {}' },
      status(),
      { http: 415, reason: 'UnsupportedMediaType', code: 415 },
    );

    await c.setup('pod sp', {
      method: 'POST',
      path: core(ns, 'pods'),
      body: pod('sp', undefined, [
        { name: 'main', image: 'a:1' },
        { name: 'side', image: 'b:1' },
      ]),
    });
    const sp = core(ns, 'pods', 'sp');
    // Strategic merge: containers merge by name, so only `side` changes.
    await c.call(
      'strategic merge pod containers',
      {
        method: 'PATCH',
        path: sp,
        contentType: STRATEGIC,
        body: { spec: { containers: [{ name: 'side', image: 'b:2' }] } },
      },
      object('spec.containers[].name', 'spec.containers[].image'),
      { http: 200, 'spec.containers[].name': ['main', 'side'], 'spec.containers[].image': ['a:1', 'b:2'] },
    );
    // The same body as a merge patch replaces the list, which a pod update may not do.
    await c.call(
      'merge patch pod containers',
      {
        method: 'PATCH',
        path: sp,
        contentType: MERGE,
        body: { spec: { containers: [{ name: 'side', image: 'b:3' }] } },
      },
      status(),
      invalid('Pod', 'sp', ['spec.containers|FieldValueForbidden']),
    );

    const env = 'spec.template.spec.containers[].env';
    const deploy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'dep' },
      spec: {
        replicas: 0,
        paused: true,
        selector: { matchLabels: { app: 'dep' } },
        template: {
          metadata: { labels: { app: 'dep' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'x:1',
                env: [
                  { name: 'A', value: '1' },
                  { name: 'B', value: '2' },
                ],
              },
            ],
          },
        },
      },
    };
    // Deployments: no resourceVersion compared, a controller (sandbox) may write their status.
    const dep = fields('metadata.generation', env);
    await c.call(
      'create deployment',
      { method: 'POST', path: grouped('apps/v1', ns, 'deployments'), body: deploy },
      dep,
      {
        http: 201,
        kind: 'Deployment',
        'metadata.generation': 1,
        [env]: [
          [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        ],
      },
    );
    await c.call(
      'strategic merge deployment env',
      {
        method: 'PATCH',
        path: grouped('apps/v1', ns, 'deployments', 'dep'),
        contentType: STRATEGIC,
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'app',
                    env: [
                      { name: 'C', value: '4' },
                      { name: 'B', value: '3' },
                      { name: 'A', $patch: 'delete' },
                    ],
                  },
                ],
              },
            },
          },
        },
      },
      dep,
      {
        http: 200,
        'metadata.generation': 2,
        [env]: [
          [
            { name: 'C', value: '4' },
            { name: 'B', value: '3' },
          ],
        ],
      },
    );
  },
};

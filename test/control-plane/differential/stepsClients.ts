// Battery steps driven by the real kubectl, for what only it sends as it sends it: `kubectl
// create deployment` posts a protobuf body, `kubectl apply --server-side` an apply patch whose
// fields the server records in managedFields. Expected values were proven against
// kube-apiserver v1.34.12.
import type { Step } from './battery.js';
import { grouped } from './kit.js';
import { kubectl } from './kubectlRun.js';
import { fields } from './normalize.js';

const outcome = (r: { code: number; stdout: string; stderr: string }): Record<string, unknown> => ({
  exit: r.code,
  output: (r.stdout + r.stderr).trim(),
});

/** What kube-apiserver makes of `kubectl create deployment web --image=nginx:1.27 --replicas=0 --port=80`. */
const CREATED_SPEC = {
  progressDeadlineSeconds: 600,
  replicas: 0,
  revisionHistoryLimit: 10,
  selector: { matchLabels: { app: 'web' } },
  strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
  template: {
    metadata: { labels: { app: 'web' } },
    spec: {
      containers: [
        {
          image: 'nginx:1.27',
          imagePullPolicy: 'IfNotPresent',
          name: 'nginx',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      dnsPolicy: 'ClusterFirst',
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
    },
  },
};

export const kubectlCreate: Step = {
  name: 'kubectl-create',
  async run(c) {
    const ns = await c.namespace();
    await c.client(
      'create deployment',
      'kubectl create deployment (protobuf body)',
      async () =>
        outcome(
          await kubectl(c.endpoint, [
            'create',
            'deployment',
            'web',
            '--image=nginx:1.27',
            '--replicas=0',
            '--port=80',
            '-n',
            ns,
          ]),
        ),
      { exit: 0, output: 'deployment.apps/web created' },
    );
    await c.call(
      'get created deployment',
      { path: grouped('apps/v1', ns, 'deployments', 'web') },
      fields('metadata.labels', 'spec'),
      { http: 200, kind: 'Deployment', 'metadata.labels': { app: 'web' }, spec: CREATED_SPEC },
    );
  },
};

const APPLIED = (image: string, env: boolean): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ssa, labels: {app: ssa}}
spec:
  replicas: 0
  selector: {matchLabels: {app: ssa}}
  template:
    metadata: {labels: {app: ssa}}
    spec:
      containers:
      - name: c
        image: ${image}
        ports: [{containerPort: 80}]
${env ? '        env: [{name: A, value: "1"}]\n' : ''}`;

const MANAGED = [
  'metadata.managedFields[].manager',
  'metadata.managedFields[].operation',
  'metadata.managedFields[].apiVersion',
  'metadata.managedFields[].fieldsType',
  'metadata.managedFields[].fieldsV1',
];

const containerFields = (env: boolean): Record<string, unknown> => ({
  '.': {},
  ...(env ? { 'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } } } : {}),
  'f:image': {},
  'f:name': {},
  'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
});
const appliedFields = (env: boolean): Record<string, unknown> => ({
  'f:metadata': { 'f:labels': { 'f:app': {} } },
  'f:spec': {
    'f:replicas': {},
    'f:selector': {},
    'f:template': {
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': { 'f:containers': { 'k:{"name":"c"}': containerFields(env) } },
    },
  },
});

export const serverSideApply: Step = {
  name: 'server-side-apply',
  async run(c) {
    const ns = await c.namespace();
    const apply = (image: string, env: boolean) => async () =>
      outcome(
        await kubectl(
          c.endpoint,
          ['apply', '--server-side', '--field-manager=battery', '-n', ns, '-f', '-'],
          APPLIED(image, env),
        ),
      );
    const get = { path: grouped('apps/v1', ns, 'deployments', 'ssa') };
    const entry = (env: boolean) => ({
      http: 200,
      kind: 'Deployment',
      'metadata.managedFields[].manager': ['battery'],
      'metadata.managedFields[].operation': ['Apply'],
      'metadata.managedFields[].apiVersion': ['apps/v1'],
      'metadata.managedFields[].fieldsType': ['FieldsV1'],
      'metadata.managedFields[].fieldsV1': [appliedFields(env)],
    });
    await c.client('apply', 'kubectl apply --server-side (creates)', apply('busybox:1.36', true), {
      exit: 0,
      output: 'deployment.apps/ssa serverside-applied',
    });
    await c.call('managed fields after apply', get, fields(...MANAGED, 'spec.template.spec.containers[].env'), {
      ...entry(true),
      'spec.template.spec.containers[].env': [[{ name: 'A', value: '1' }]],
    });
    // The same manager applies again without env: its one entry now lists only what it applied.
    await c.client('apply again', 'kubectl apply --server-side (updates)', apply('busybox:1.37', false), {
      exit: 0,
      output: 'deployment.apps/ssa serverside-applied',
    });
    await c.call(
      'managed fields after second apply',
      get,
      fields(...MANAGED, 'spec.template.spec.containers[].image'),
      {
        ...entry(false),
        'spec.template.spec.containers[].image': ['busybox:1.37'],
      },
    );
  },
};

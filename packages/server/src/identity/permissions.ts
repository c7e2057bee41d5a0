/**
 * What a user may do. A route names the one permission it needs (routePermissions.ts); roles
 * are sets of them; a team holds roles, each for all projects and environments or for some.
 */
export const PERMISSIONS = {
  'project:view': 'See projects, their processes, releases and deployments',
  'project:edit': 'Create and delete projects',
  'process:edit': "Change a project's deployment process",
  'variable:view': "See a project's variables (sensitive values withheld)",
  'variable:view-sensitive': "Reveal a project's sensitive variable values (no built-in role has it)",
  'variable:edit': "Change a project's variables",
  'release:create': 'Create releases',
  'deployment:create': 'Deploy a release to an environment',
  'task:view': 'See tasks and their logs',
  'task:cancel': 'Cancel tasks',
  'environment:view': 'See environments',
  'environment:edit': 'Create, change and delete environments',
  'target:view': 'See deployment targets',
  'target:edit': 'Create, change and delete deployment targets',
  'package:view': 'See and download packages',
  'package:push': 'Push packages to the built-in feed',
  'worker:view': 'See worker pools, workers, their health and machine policies',
  'worker:manage': 'Change worker pools, workers and machine policies; check and upgrade workers',
  'worker:register': 'Make registration tokens and install commands for new workers',
  'user:manage': "Manage users, teams, roles and other users' API keys",
  'audit:view': 'Read the audit log',
  'webhook:manage': 'Manage webhook subscriptions and see their deliveries',
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export const isPermission = (name: string): name is Permission => Object.hasOwn(PERMISSIONS, name);

const VIEW: Permission[] = [
  'project:view',
  'variable:view',
  'task:view',
  'environment:view',
  'target:view',
  'package:view',
  'worker:view',
];

/**
 * The roles every server has. Their permissions follow the server's version (they are code, not
 * rows), so a new permission reaches the roles meant to have it on upgrade.
 */
export const BUILT_IN_ROLES: Record<string, { description: string; permissions: readonly Permission[] }> = {
  Administrator: {
    description: 'Everything, except revealing sensitive values',
    permissions: ALL_PERMISSIONS.filter((p) => p !== 'variable:view-sensitive'),
  },
  'Project lead': {
    description: 'Shapes projects: processes, variables, releases; deploys and cancels',
    permissions: [
      ...VIEW,
      'project:edit',
      'process:edit',
      'variable:edit',
      'release:create',
      'deployment:create',
      'task:cancel',
      'package:push',
    ],
  },
  Deployer: {
    description: 'Creates releases, deploys them and cancels deployments',
    permissions: [...VIEW, 'release:create', 'deployment:create', 'task:cancel'],
  },
  Viewer: { description: 'Sees everything a deployment shows, changes nothing', permissions: VIEW },
  'Infrastructure manager': {
    description: 'Environments, targets, worker pools, workers and machine policies',
    permissions: [...VIEW, 'environment:edit', 'target:edit', 'worker:manage', 'worker:register', 'task:cancel'],
  },
};

import type { Store } from '../store/database.js';
import { BUILT_IN_ROLES, isPermission, type Permission } from './permissions.js';
import type { Requirement } from './requirements.js';

/** One role a user holds through a team: its permissions, for every project and environment or for those listed (ids). */
export interface Grant {
  role: string;
  team: string;
  permissions: ReadonlySet<Permission>;
  projects: readonly string[] | null;
  environments: readonly string[] | null;
}

/** The roles a user holds through their teams, as one query. */
export async function grantsOf(db: Store, userId: string): Promise<Grant[]> {
  const rows = await db
    .selectFrom('team_members')
    .innerJoin('team_roles', 'team_roles.team_id', 'team_members.team_id')
    .innerJoin('roles', 'roles.id', 'team_roles.role_id')
    .innerJoin('teams', 'teams.id', 'team_members.team_id')
    .select([
      'roles.name as role',
      'roles.built_in',
      'roles.permissions',
      'teams.name as team',
      'team_roles.projects',
      'team_roles.environments',
    ])
    .where('team_members.user_id', '=', userId)
    .execute();
  return rows.map((r) => ({
    role: r.role,
    team: r.team,
    permissions: new Set(r.built_in ? (BUILT_IN_ROLES[r.role]?.permissions ?? []) : permissionList(r.permissions)),
    projects: r.projects === null ? null : (JSON.parse(r.projects) as string[]),
    environments: r.environments === null ? null : (JSON.parse(r.environments) as string[]),
  }));
}

/** A stored list of permissions; names a newer server wrote and this one does not know grant nothing. */
export function permissionList(json: string): Permission[] {
  return (JSON.parse(json) as string[]).filter(isPermission);
}

/** A key that carries only some of its user's permissions: each grant keeps what the key carries. */
export function narrowed(grants: Grant[], keyPermissions: readonly Permission[] | null): Grant[] {
  if (keyPermissions === null) return grants;
  const carried = new Set(keyPermissions);
  return grants.map((g) => ({ ...g, permissions: new Set([...g.permissions].filter((p) => carried.has(p))) }));
}

/**
 * Whether a grant covers the requirement. A grant for some projects covers only actions on one of
 * them (creating a project is on none); a grant for some environments covers actions in one of
 * them and actions that are in no environment (editing a process).
 */
export function covers(grant: Grant, need: Requirement): boolean {
  if (!grant.permissions.has(need.permission)) return false;
  if (grant.projects !== null && (need.project === undefined || !grant.projects.includes(need.project))) return false;
  if (grant.environments !== null && need.environment !== undefined && !grant.environments.includes(need.environment))
    return false;
  return true;
}

export const allows = (grants: readonly Grant[], need: Requirement): boolean => grants.some((g) => covers(g, need));

/** Whether any grant has the permission somewhere: enough to ask for a list, which then shows only what is covered. */
export const holdsAnywhere = (grants: readonly Grant[], permission: Permission): boolean =>
  grants.some((g) => g.permissions.has(permission));

/**
 * Whether the grants show an environment in a list. Environments belong to no project, so a
 * grant for some projects shows the environments it names (all when it names none): a deployer
 * of one project sees where they may deploy it.
 */
export const seesEnvironment = (grants: readonly Grant[], environmentId: string): boolean =>
  grants.some(
    (g) => g.permissions.has('environment:view') && (g.environments === null || g.environments.includes(environmentId)),
  );

import type { Me, PermissionName, UserGrant } from '@longshore/client';

/** Where an action happens, by name: /api/me names a grant's projects and environments. */
export interface Place {
  project?: string | null;
  environment?: string | null;
}

/** Names are one name regardless of case and Unicode normalisation: the server's rule (resources/names.ts). */
const nameKey = (name: string): string => name.normalize('NFC').toLowerCase();
const names = (list: readonly string[], name: string): boolean => list.some((n) => nameKey(n) === nameKey(name));

/**
 * The server's rule (its identity/grants.ts `covers`), so that the portal shows what the server
 * would allow: a grant for some projects covers only actions on one of them (creating a project
 * is on none); a grant for some environments covers actions in one of them and actions in no
 * environment (editing a process).
 */
export function covers(grant: UserGrant, permission: PermissionName, place: Place): boolean {
  if (!grant.permissions.includes(permission)) return false;
  const { project, environment } = place;
  if (grant.projects !== null && (project == null || !names(grant.projects, project))) return false;
  if (grant.environments !== null && environment != null && !names(grant.environments, environment)) return false;
  return true;
}

/** What the signed-in user may do, as their credential's grants say. */
export interface Access {
  me: Me;
  /** Whether the server would allow the action there (nowhere in particular when no place is given). */
  may(permission: PermissionName, place?: Place): boolean;
  /** Whether a list route answers: it needs the permission somewhere, and then shows only what it covers. */
  mayList(permission: PermissionName): boolean;
}

export function accessOf(me: Me): Access {
  return {
    me,
    may: (permission, place = {}) => me.grants.some((g) => covers(g, permission, place)),
    mayList: (permission) => me.grants.some((g) => g.permissions.includes(permission)),
  };
}

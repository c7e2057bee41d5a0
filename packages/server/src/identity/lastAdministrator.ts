import { LongshoreError } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import { BUILT_IN_ROLES } from './permissions.js';
import { permissionList } from './grants.js';

/**
 * Refuses a change (inside its transaction) that leaves no enabled user able to manage users
 * everywhere: nobody could then give the permissions back without editing the database.
 */
export async function assertSomeoneManagesUsers(db: Store): Promise<void> {
  const roles = await db.selectFrom('roles').select(['id', 'name', 'built_in', 'permissions']).execute();
  const managing = roles
    .filter((r) =>
      (r.built_in ? (BUILT_IN_ROLES[r.name]?.permissions ?? []) : permissionList(r.permissions)).includes(
        'user:manage',
      ),
    )
    .map((r) => r.id);
  const someone =
    managing.length > 0 &&
    (await db
      .selectFrom('users')
      .innerJoin('team_members', 'team_members.user_id', 'users.id')
      .innerJoin('team_roles', 'team_roles.team_id', 'team_members.team_id')
      .select('users.id')
      .where('users.disabled', '=', 0)
      .where('team_roles.role_id', 'in', managing)
      .where('team_roles.projects', 'is', null)
      .where('team_roles.environments', 'is', null)
      .executeTakeFirst());
  if (!someone)
    throw new LongshoreError(
      'CONFLICT',
      'This would leave no enabled user who may manage users (user:manage for every project and environment); keep at least one',
    );
}

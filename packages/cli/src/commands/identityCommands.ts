import type { Command } from 'commander';
import type { AuditEvent, PermissionName } from '@longshore/client';
import { LongshoreError } from '@longshore/protocol';
import { printList, printObject } from '../output.js';
import { clientFor } from './clientCommands.js';

const collect = (value: string, all: string[]): string[] => [...all, value];

/** `1h`, `30m`, `7d` ago, or an ISO time, as the ISO time the API takes. */
export function sinceTime(text: string, now = Date.now()): string {
  const relative = /^(\d+)([smhd])$/.exec(text);
  if (relative) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(relative[1]) * unit).toISOString();
  }
  if (Number.isNaN(Date.parse(text)))
    throw new LongshoreError(
      'VALIDATION_FAILED',
      `--since ${text}: give a time (2026-12-01T10:00:00Z) or an age (30m, 2h, 7d)`,
    );
  return new Date(text).toISOString();
}

/** A change as one short phrase: `process.steps[0].script.body: 'echo one' → 'echo two'`. */
function changesOf(event: AuditEvent): string {
  if (event.outcome === 'denied') return `needs ${String(event.detail?.permission ?? '')}`;
  if (event.outcome === 'failed') return String(event.detail?.message ?? '');
  const changes = event.changes ?? [];
  const shown = changes
    .slice(0, 3)
    .map((c) => `${c.path}: ${JSON.stringify(c.before ?? null)} → ${JSON.stringify(c.after ?? null)}`);
  return shown.join('; ') + (changes.length > 3 ? ` (+${changes.length - 3} more)` : '');
}

/** Users, teams, roles, one's own API keys, and the audit log. */
export function registerIdentityCommands(program: Command): void {
  program
    .command('audit')
    .description('the audit log, newest first: who changed what, refusals, sign-ins')
    .option('--actor <user>', 'only what this user did (or tried)')
    .option('--object <name>', 'only what touched this object (a name or an id)')
    .option('--kind <kind>', 'only this kind of object (projects, deployments, tasks, users, ...)')
    .option('--since <time>', 'from this time or age (30m, 2h, 7d)')
    .option('--limit <n>', 'at most this many entries', '50')
    .action(
      async (opts: { actor?: string; object?: string; kind?: string; since?: string; limit: string }, cmd: Command) => {
        const { client, output } = clientFor(cmd);
        const events = await client.audit({
          ...(opts.actor && { actor: opts.actor }),
          ...(opts.object && { object: opts.object }),
          ...(opts.kind && { objectKind: opts.kind }),
          ...(opts.since && { since: sinceTime(opts.since) }),
          limit: Number(opts.limit),
        });
        printList(
          events,
          [
            { header: 'time', value: (e) => e.at },
            { header: 'actor', value: (e) => e.actor },
            { header: 'action', value: (e) => e.action },
            { header: 'object', value: (e) => e.object ?? '' },
            { header: 'outcome', value: (e) => e.outcome },
            { header: 'what', value: changesOf },
          ],
          output,
        );
      },
    );

  const users = program.command('users').description('users: who signs in (user:manage)');
  users
    .command('list', { isDefault: true })
    .description('list users')
    .action(async (_o: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      printList(
        await client.users.list(),
        [
          { header: 'name', value: (u) => u.name },
          { header: 'display name', value: (u) => u.displayName },
          { header: 'teams', value: (u) => u.teams },
          {
            header: 'state',
            value: (u) => (u.disabled ? 'disabled' : u.lockedUntil ? `locked until ${u.lockedUntil}` : 'active'),
          },
          { header: 'last sign-in', value: (u) => u.lastSignInAt ?? 'never' },
        ],
        output,
      );
    });
  users
    .command('create')
    .description('make a user; the password is read from LONGSHORE_NEW_PASSWORD, never from the command line')
    .argument('<name>')
    .option('--display-name <text>')
    .option('--team <team>', 'a team to join (repeatable)', collect, [])
    .action(async (name: string, opts: { displayName?: string; team: string[] }, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      const password = process.env.LONGSHORE_NEW_PASSWORD;
      printObject(
        await client.users.create({
          name,
          ...(opts.displayName && { displayName: opts.displayName }),
          ...(password ? { password } : {}),
          teams: opts.team,
        }),
        output,
      );
    });
  for (const [verb, change, what] of [
    ['disable', { disabled: true }, 'a user can no longer sign in; their keys and sessions stop working'],
    ['enable', { disabled: false }, 'a disabled user may sign in again'],
    ['unlock', { unlock: true as const }, 'end a lockout after failed sign-ins'],
  ] as const) {
    users
      .command(verb)
      .description(what)
      .argument('<name>')
      .action(async (name: string, _o: unknown, cmd: Command) => {
        const { client, output } = clientFor(cmd);
        printObject(await client.users.update(name, change), output);
      });
  }

  program
    .command('teams')
    .description('teams: their members, and the roles they hold where (user:manage)')
    .argument('[team]', 'show one, by name or id')
    .action(async (team: string | undefined, _o: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      if (team) return printObject(await client.teams.get(team), output);
      const where = (names: string[] | null) => (names === null ? 'all' : names.join(', '));
      printList(
        await client.teams.list(),
        [
          { header: 'name', value: (t) => t.name },
          { header: 'members', value: (t) => t.members },
          {
            header: 'roles',
            value: (t) =>
              t.roles
                .map((r) => `${r.role} (projects: ${where(r.projects)}; environments: ${where(r.environments)})`)
                .join('; '),
          },
        ],
        output,
      );
    });

  program
    .command('roles')
    .description('roles and their permissions')
    .action(async (_o: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      printList(
        (await client.roles.list()).roles,
        [
          { header: 'name', value: (r) => r.name },
          { header: 'built in', value: (r) => (r.builtIn ? 'yes' : '') },
          { header: 'permissions', value: (r) => r.permissions },
        ],
        output,
      );
    });

  const keys = program.command('api-keys').description('your own API keys');
  keys
    .command('list', { isDefault: true })
    .description('list your API keys, with when each was last used')
    .action(async (_o: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      printList(
        await client.apiKeys.list(),
        [
          { header: 'id', value: (k) => k.id },
          { header: 'name', value: (k) => k.name },
          { header: 'expires', value: (k) => k.expiresAt ?? 'never' },
          { header: 'last used', value: (k) => k.lastUsedAt ?? 'never' },
          { header: 'state', value: (k) => (k.revokedAt ? `revoked ${k.revokedAt}` : 'active') },
          { header: 'permissions', value: (k) => k.permissions ?? 'all of yours' },
        ],
        output,
      );
    });
  keys
    .command('create')
    .description('make a key for yourself; it is shown once')
    .argument('<name>')
    .option('--expires-in-days <n>', 'default 90; 0 for a key that never expires')
    .option('--permission <permission>', 'only this of your permissions (repeatable)', collect, [])
    .action(async (name: string, opts: { expiresInDays?: string; permission: string[] }, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      const days = opts.expiresInDays === undefined ? undefined : Number(opts.expiresInDays);
      printObject(
        await client.apiKeys.create({
          name,
          ...(days !== undefined && { expiresInDays: days === 0 ? null : days }),
          // The server names a permission it does not know, with the ones it does.
          ...(opts.permission.length && { permissions: opts.permission as PermissionName[] }),
        }),
        output,
      );
    });
  keys
    .command('revoke')
    .description('stop a key of yours at once')
    .argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      await client.apiKeys.revoke(id);
      if (output === 'json') printObject({ id, revoked: true }, output);
      else process.stdout.write(`Revoked ${id}\n`);
    });
}

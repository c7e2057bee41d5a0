import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';

interface MigrateFlags {
  from: string;
  to?: string;
}

/**
 * `longshore migrate`: an SQLite installation into PostgreSQL, one way. The copy runs in one
 * transaction (all or nothing, so a failed run is simply run again); the old data directory is
 * left in place, and still holds what the database does not: the master key and the packages.
 */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description(
      "copy an SQLite installation's store into an empty PostgreSQL database, for one or several server nodes (stop the server first)",
    )
    .requiredOption('--from <dataDir>', 'the data directory of the SQLite installation (where longshore.db is)')
    .option(
      '--to <url>',
      'the PostgreSQL database, postgres://user:password@host:5432/database (default: $LONGSHORE_DATABASE_URL)',
    )
    .action(async (opts: MigrateFlags) => {
      const { copySqliteToPostgres, redactDatabaseUrl } = await import('@longshore/server');
      const to = opts.to ?? process.env.LONGSHORE_DATABASE_URL;
      if (!to)
        throw new Error('--to postgres://... (or $LONGSHORE_DATABASE_URL) is required: the database to copy into');
      const from = resolve(opts.from);
      const out = (line: string) => process.stdout.write(`${line}\n`);
      const copied = await copySqliteToPostgres({
        dataDir: from,
        database: to,
        onStart: () => out(`Copying ${join(from, 'longshore.db')} into ${redactDatabaseUrl(to)}, in one transaction:`),
        onTable: ({ table, rows, nulReplaced }) =>
          out(
            `  ${table.padEnd(32)} ${String(rows).padStart(10)} rows${nulReplaced ? `; ${nulReplaced === 1 ? '1 value' : `${nulReplaced} values`} held a NUL character, which PostgreSQL cannot keep: copied with U+FFFD in its place` : ''}`,
          ),
      });
      const total = copied.reduce((sum, t) => sum + t.rows, 0);
      out(`Copied ${total} rows in ${copied.length} tables; every table's count matches the SQLite store's.`);
      out('');
      for (const line of nextSteps(from)) out(line);
    });
}

/** What the new nodes need that is not in the database: the master key and the package directory. */
function nextSteps(from: string): string[] {
  const keyFile = join(from, 'master.key');
  const packages = join(from, 'packages');
  return [
    'Next:',
    existsSync(keyFile)
      ? `  - Give every server node the master key of ${keyFile}: sensitive values were copied sealed with it.\n      export LONGSHORE_MASTER_KEY="$(cat ${keyFile})"`
      : '  - Give every server node the master key the old server had (its LONGSHORE_MASTER_KEY): sensitive values were copied sealed with it.',
    '  - Start the server nodes on the database:',
    '      longshore server --database "$LONGSHORE_DATABASE_URL" ...',
    existsSync(packages)
      ? `  - Packages stay in ${packages}: run the nodes with packageStorage directory and LONGSHORE_PACKAGE_DIRECTORY=${packages}, or copy that directory (as it is) to a share every node mounts and point LONGSHORE_PACKAGE_DIRECTORY there.`
      : '  - No package directory was found: the packages, if any, were in the database and came with it.',
    "  - Users, API keys (the CLI's admin key too), workers and their credentials were copied: workers reconnect once the URL they use reaches the new nodes.",
    `  - Keep ${from} until the new nodes run; the SQLite store is not used again.`,
  ];
}

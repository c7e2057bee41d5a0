// `longshore migrate` as an operator moves an installation: a real SQLite server with a deployment
// and its log, a user, a webhook, a package and a sensitive variable is stopped, copied into a
// fresh PostgreSQL database, and started again on it with the master key given by environment
// (its key file moved away). Everything is there through the API, the old admin key and the
// worker's credential still work, and a new deployment opens the sensitive value. Copying into a
// database that holds an installation is refused. Needs the built CLI (`npm run build`).
// Run: node --conditions=source --import tsx --test test/e2e/migrateToPostgres.test.ts
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { runCli } from '../support/cliProcess.js';
import { Lab } from '../support/lab.js';
import { freshPostgresDatabase, TEST_DATABASE_PASSWORD } from '../support/postgres.js';

const SECRET = 'migrated-secret-value';
const lab = new Lab();
after(() => lab.close());

const PROJECT = `
environments: [ { name: Production } ]
projects:
  - name: Moving
    process:
      steps:
        - name: Hello
          script:
            body: |
              echo "hello before the move"
              if [ "#{Password}" = "${SECRET}" ]; then echo "the sealed value opens"; fi
    variables:
      - { name: Password, value: ${SECRET}, sensitive: true }
`;

async function deploy(): Promise<{ id: string; lines: string[] }> {
  const deployed = await lab.cli(['deploy', 'Moving', '--to', 'Production', '--follow']);
  assert.equal(deployed.code, 0, deployed.output);
  const tasks = (await lab.api('GET', '/api/tasks')).body.items as { id: string; createdAt: number }[];
  const task = tasks.sort((a, b) => b.createdAt - a.createdAt)[0]!;
  return { id: task.id, lines: (await lab.taskLog(task.id)).map((l) => l.text) };
}

test('an SQLite installation copied into PostgreSQL runs there with all its data', async () => {
  await lab.startServer({}, { database: null });
  await lab.startWorker('mover');
  assert.equal((await lab.apply(PROJECT)).code, 0);
  const before = await deploy();
  assert.ok(before.lines.includes('hello before the move'), before.lines.join('\n'));
  assert.ok(before.lines.includes('the sealed value opens'), before.lines.join('\n'));
  const user = await lab.api('POST', '/api/users', { name: 'alice', password: 'alice-password-long-enough' });
  assert.equal(user.status, 201, JSON.stringify(user.body));
  const hook = await lab.api('POST', '/api/webhooks', {
    name: 'ops',
    url: 'http://127.0.0.1:9/hook',
    events: ['deployment.failed'],
  });
  assert.equal(hook.status, 201, JSON.stringify(hook.body));
  const dir = mkdtempSync(join(tmpdir(), 'longshore-migrate-pkg-'));
  writeFileSync(join(dir, 'hello.txt'), 'packaged\n');
  execFileSync('tar', ['-czf', join(dir, 'app.tar.gz'), '-C', dir, 'hello.txt']);
  assert.equal(
    (await lab.cli(['packages', 'push', join(dir, 'app.tar.gz'), '--id', 'app', '--version', '1.0.0'])).code,
    0,
  );
  const packageSha = createHash('sha256')
    .update(readFileSync(join(dir, 'app.tar.gz')))
    .digest('hex');
  const projectsBefore = (await lab.api('GET', '/api/projects')).body;
  assert.equal(await lab.server!.kill('SIGTERM'), 0);
  // What an older server kept: SQLite's text holds a NUL, PostgreSQL's cannot.
  const store = new SQLite(join(lab.dataDir, 'longshore.db'));
  store.prepare(`UPDATE environments SET description = 'kept' || char(0) || 'by an older server'`).run();
  store.close();

  const database = await freshPostgresDatabase();
  // Wrong ends are refused, each with one line that names it, before anything is read or written.
  for (const [from, to, said] of [
    [
      join(lab.dataDir, 'nowhere'),
      database,
      /nowhere\/longshore\.db does not exist: --from must be the data directory/,
    ],
    [
      lab.dataDir,
      'mysql://longshore:hunter2@db/longshore',
      /--to mysql:\/\/longshore:redacted@db\/longshore is not a PostgreSQL URL/,
    ],
  ] as const) {
    const refused = await runCli(['migrate', '--from', from, '--to', to]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, said);
    assert.doesNotMatch(refused.output, /Copying|hunter2/, refused.output);
  }
  const migrated = await runCli(['migrate', '--from', lab.dataDir, '--to', database]);
  assert.equal(migrated.code, 0, migrated.output);
  assert.ok(!migrated.output.includes(TEST_DATABASE_PASSWORD), 'the password is not printed');
  assert.match(migrated.output, /^\s+users\s+2 rows$/m, migrated.output);
  assert.match(migrated.output, /^\s+projects\s+1 rows$/m);
  assert.match(migrated.output, /^\s+webhooks\s+1 rows$/m);
  assert.match(migrated.output, /^\s+environments\s+1 rows; 1 value held a NUL character/m);
  assert.match(migrated.output, /every table's count matches/);
  assert.match(migrated.output, /LONGSHORE_MASTER_KEY="\$\(cat .*master\.key\)"/);
  assert.match(migrated.output, /Packages stay in .*packages/);

  const again = await runCli(['migrate', '--from', lab.dataDir, '--to', database]);
  assert.notEqual(again.code, 0);
  assert.match(again.output, /already holds a Longshore installation \(2 rows in users\)/);

  // A node elsewhere has no key file: the key comes by environment, as the migration says.
  const keyFile = join(lab.dataDir, 'master.key');
  const masterKey = readFileSync(keyFile, 'utf8').trim();
  renameSync(keyFile, `${keyFile}.old`);
  await lab.startServer({ LONGSHORE_MASTER_KEY: masterKey }, { database });
  assert.deepEqual((await lab.api('GET', '/api/projects')).body, projectsBefore, 'the old admin key signs in');
  const production = (await lab.api('GET', '/api/environments/Production')).body;
  assert.equal(production.description, 'kept\uFFFDby an older server');
  const users = (await lab.api('GET', '/api/users')).body.items as { name: string }[];
  assert.deepEqual(users.map((u) => u.name).sort(), ['admin', 'alice']);
  const hooks = (await lab.api('GET', '/api/webhooks')).body.items as { name: string }[];
  assert.deepEqual(
    hooks.map((h) => h.name),
    ['ops'],
  );
  const oldLog = (await lab.taskLog(before.id)).map((l) => l.text);
  assert.deepEqual(oldLog, before.lines, "the old deployment's log, line for line");
  const content = await fetch(`${lab.url}/api/packages/app/1.0.0/content`, {
    headers: { authorization: `Bearer ${lab.apiKey}` },
  });
  assert.equal(content.status, 200);
  assert.equal(
    createHash('sha256')
      .update(Buffer.from(await content.arrayBuffer()))
      .digest('hex'),
    packageSha,
  );

  // The worker comes back with its copied credential; new rows get ids past the copied ones.
  const later = await deploy();
  assert.ok(later.lines.includes('the sealed value opens'), later.lines.join('\n'));
  assert.notEqual(later.id, before.id);
});

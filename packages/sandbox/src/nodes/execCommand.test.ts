import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFailure, imageProgram, nsenterArgv } from './execCommand.js';
import { shellQuote, terminalSize, underTerminal } from './terminal.js';

test('nsenter joins the user namespace only where the container has its own', () => {
  assert.deepEqual(nsenterArgv('/usr/bin/nsenter', 42, true, ['x']), [
    '/usr/bin/nsenter',
    '--target=42',
    '--user',
    '--preserve-credentials',
    '--mount',
    '--root',
    '--wd',
    '--',
    'x',
  ]);
  assert.deepEqual(nsenterArgv('nsenter', 42, false, ['x']).slice(1, 3), ['--target=42', '--mount']);
});

test("the kubelet's message for an exec the runtime could not start", () => {
  assert.equal(
    execFailure('ab', 'exec: "nope": executable file not found in $PATH'),
    'error executing command in container: failed to exec in container: failed to start exec "ab": OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": executable file not found in $PATH: unknown',
  );
});

test("an image's program names map to their host commands, other commands stay", () => {
  const programs = { longshore: ['/usr/bin/node', '/opt/longshore/main.js'] };
  assert.deepEqual(imageProgram(programs, ['longshore', 'worker']), [
    '/usr/bin/node',
    '/opt/longshore/main.js',
    'worker',
  ]);
  assert.deepEqual(imageProgram(programs, ['sh']), ['sh']);
  assert.deepEqual(imageProgram(undefined, ['toString']), ['toString']);
});

test('script gets /bin/sh and gives the command back its own SHELL, argv quoted', () => {
  const tools = { script: '/usr/bin/script', stty: '/usr/bin/stty' };
  const t = underTerminal(tools, ['echo', "it's"], { SHELL: '/bin/bash' });
  assert.deepEqual(t.argv, [
    '/usr/bin/script',
    '-q',
    '-e',
    '-c',
    `SHELL='/bin/bash'; exec 'echo' 'it'\\''s'`,
    '/dev/null',
  ]);
  assert.equal(t.env.SHELL, '/bin/sh');
  assert.match(underTerminal(tools, ['x'], {}).argv[4]!, /^unset SHELL; /);
  assert.equal(shellQuote("a'b"), `'a'\\''b'`);
});

test('terminal sizes are whole numbers stty accepts', () => {
  assert.deepEqual(terminalSize(80, 24), { cols: 80, rows: 24 });
  assert.equal(terminalSize(-1, 24), undefined);
  assert.equal(terminalSize(80.5, 24), undefined);
  assert.equal(terminalSize(70000, 24), undefined);
});

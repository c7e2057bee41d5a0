import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab } from '../support/lab.js';
import { freePort, startCli, type CliProcess } from '../support/cliProcess.js';

let lab: Lab;
let worker: CliProcess | undefined;

before(async () => {
  lab = new Lab();
  await lab.startServer();
});
after(async () => {
  await worker?.kill('SIGTERM');
  await lab?.close();
});

test('a used registration token: one clear log line, the worker keeps running and retrying slowly, and /readyz says why it is not ready', async () => {
  const token = (await lab.api('POST', '/api/registration-tokens', {})).body.token as string;
  // Someone registers with the token first, so the worker below gets a used one.
  const used = await fetch(`${lab.url}/api/agent/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, name: 'took-the-token', executor: 'local', version: '0.1.0', capacity: 1 }),
  });
  assert.equal(used.status, 201);
  const port = await freePort();
  worker = startCli(
    [
      'worker',
      '--server',
      lab.url,
      '--name',
      'late',
      '--data',
      join(lab.dir, 'late'),
      '--registration-token',
      token,
      '--health-port',
      String(port),
    ],
    { LONGSHORE_REJECTED_RETRY_MS: '1000' },
  );
  await worker.waitForOutput(/already used/);
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(worker.child.exitCode, null, 'still running: no crash loop that hides the reason');
  const lines = worker
    .output()
    .split('\n')
    .filter((l) => l.includes('already used'));
  assert.equal(lines.length, 1, `one line, not one per retry:\n${lines.join('\n')}`);
  assert.ok(!worker.output().includes(token), 'the token is not logged');
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  assert.equal(ready.status, 503);
  assert.match(await ready.text(), /starting: The registration token was already used/);
  assert.equal((await fetch(`http://127.0.0.1:${port}/livez`)).status, 200);
});

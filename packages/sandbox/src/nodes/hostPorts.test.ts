import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { portInUseMessage, portsInUse } from './hostPorts.js';

test('a declared port something listens on is found, with the address it listens on; a free one is not', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const taken = portsInUse([{ containerPort: port }, { containerPort: port, protocol: 'UDP' }]);
    assert.deepEqual(taken, [{ port, protocol: 'TCP', address: `127.0.0.1:${port}` }]);
    assert.match(
      portInUseMessage('web', taken[0]!),
      new RegExp(
        `^Port ${port}/TCP of container web is already in use on this machine \\(127\\.0\\.0\\.1:${port} listens\\)`,
      ),
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.deepEqual(portsInUse([{ containerPort: port }]), []);
});

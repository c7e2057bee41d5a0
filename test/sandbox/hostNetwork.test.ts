// Pods of the sandbox share the host's network: a port that something on the host already listens
// on fails the container's own bind, and the node says why in a Warning event beside the
// program's error in the pod's log (README: "Pods share this machine's network").
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { clientsMissing, eventually, sandboxForSuite, succeeded } from './support.js';

describe("a pod's port is the host's port", { skip: clientsMissing() }, () => {
  const suite = sandboxForSuite();
  let holder: Server;
  let port = 0;
  before(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, resolve));
    port = (holder.address() as { port: number }).port;
  });
  after(() => {
    holder?.close();
  });

  test('a port already taken on the host: the program fails with EADDRINUSE in its log, and a PortInUse event says why', async () => {
    await succeeded(
      suite.env.kubectl(['apply', '-f', '-'], {
        input: `apiVersion: v1
kind: Pod
metadata: {name: listener}
spec:
  restartPolicy: Never
  containers:
  - name: web
    image: busybox
    command: [node, -e, "require('net').createServer().listen(${port})"]
    ports: [{containerPort: ${port}}]
`,
      }),
    );
    await eventually(
      'the pod fails',
      async () =>
        (await suite.env.kubectl(['get', 'pod', 'listener', '-o', 'jsonpath={.status.phase}'])).stdout === 'Failed',
      30_000,
    );
    const log = await succeeded(suite.env.kubectl(['logs', 'listener']));
    assert.match(log, new RegExp(`EADDRINUSE.*${port}`));
    const events = await succeeded(
      suite.env.kubectl([
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=listener,reason=PortInUse',
        '-o',
        'jsonpath={.items[*].message}',
      ]),
    );
    assert.match(
      events,
      new RegExp(
        `^Port ${port}/TCP of container web is already in use on this machine \\(\\[::\\]:${port} listens\\): pods of the sandbox share the machine's network`,
      ),
    );
  });
});

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ContainerProbes, type ProbeState } from './containerProbes.js';

let server: Server;
let port = 0;
let answer = 503;
before(async () => {
  server = createServer((req, res) => {
    res.statusCode = req.url === '/readyz' ? answer : 200;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

async function until(states: ProbeState[], want: ProbeState): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const last = states.at(-1);
    if (last && last.started === want.started && last.ready === want.ready) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`never ${JSON.stringify(want)}: ${JSON.stringify(states)}`);
}

test('a container is ready only while its readiness probe passes, after its startup probe, by named port', async () => {
  answer = 503;
  const states: ProbeState[] = [];
  const container = {
    ports: [{ name: 'http', containerPort: port }],
    startupProbe: { httpGet: { path: '/livez', port: 'http' }, periodSeconds: 0 },
    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 0, failureThreshold: 2 },
  };
  const probes = new ContainerProbes(container, (s) => states.push(s));
  assert.deepEqual(probes.state, { started: false, ready: false });
  await until(states, { started: true, ready: false });
  answer = 200;
  await until(states, { started: true, ready: true });
  answer = 500;
  await until(states, { started: true, ready: false });
  probes.stop();
});

test('nothing listening is not ready; no probes is ready at once; tcpSocket dials the port', async () => {
  const states: ProbeState[] = [];
  const closed = new ContainerProbes({ readinessProbe: { tcpSocket: { port: 1 }, periodSeconds: 0 } }, (s) =>
    states.push(s),
  );
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(closed.state, { started: true, ready: false });
  closed.stop();
  assert.deepEqual(new ContainerProbes({}, () => undefined).state, { started: true, ready: true });
  const open = new ContainerProbes({ readinessProbe: { tcpSocket: { port }, periodSeconds: 0 } }, (s) =>
    states.push(s),
  );
  await until(states, { started: true, ready: true });
  open.stop();
});

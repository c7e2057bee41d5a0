import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { requireRouteAccess, withAccess } from './routeAccess.js';

test('a route that declares no access refuses to register, so the server does not start', async () => {
  const app = Fastify();
  requireRouteAccess(app);
  await assert.rejects(async () => {
    await app.register(async (scope) => {
      scope.get('/api/undeclared', async () => 'open');
    });
    await app.ready();
  }, /Route GET \/api\/undeclared declares no access/);
});

test("routes take their scope's access, nested plugins included, unless they declare their own", async () => {
  const app = Fastify();
  const routes = requireRouteAccess(app);
  app.get('/livez', { config: { access: 'public' } }, async () => 'ok');
  await app.register(
    withAccess(
      'worker',
      async (scope) => {
        scope.post('/api/agent/poll', async () => 'polled');
        scope.post('/api/agent/register', { config: { access: 'public' } }, async () => 'registered');
        await scope.register(async (nested) => {
          nested.get('/api/agent/nested', async () => 'nested');
        });
      },
      undefined,
    ),
  );
  await app.ready();
  assert.deepEqual(
    routes.map((r) => `${r.method} ${r.url} ${r.access}`),
    [
      'GET /livez public',
      'HEAD /livez public',
      'POST /api/agent/poll worker',
      'POST /api/agent/register public',
      'GET /api/agent/nested worker',
      'HEAD /api/agent/nested worker',
    ],
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathTemplate } from './pathTemplate.js';
import { agentRoutes } from './agentApi.js';

test('a path template builds its paths with each value encoded into its segment', () => {
  const content = pathTemplate('/api/agent/packages/:packageId/:version/content');
  assert.equal(content.template, '/api/agent/packages/:packageId/:version/content');
  assert.equal(content('web', '1.2.3'), '/api/agent/packages/web/1.2.3/content');
  assert.equal(content('a/b c', '1.0.0+x'), '/api/agent/packages/a%2Fb%20c/1.0.0%2Bx/content');
});

test('the agent paths a worker calls are the ones the server registers', () => {
  const id = '6f1c2a4e-0000-4000-8000-000000000000';
  assert.equal(agentRoutes.operationState(id), `/api/agent/operations/${id}`);
  assert.equal(agentRoutes.logs(id), `/api/agent/operations/${id}/logs`);
  assert.equal(agentRoutes.complete(id), `/api/agent/operations/${id}/complete`);
  assert.equal(agentRoutes.packageToken(id), `/api/agent/operations/${id}/package-token`);
  assert.equal(agentRoutes.logs.template, '/api/agent/operations/:id/logs');
  assert.equal(agentRoutes.packageContent.template, '/api/agent/packages/:packageId/:version/content');
});

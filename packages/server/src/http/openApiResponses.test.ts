import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { derivedErrorStatuses, documentRoute, errorBody } from './openApiResponses.js';

test('the errors a route can answer follow from its method, parameters, body and access', () => {
  const body = Type.Object({});
  const cases: [string, string, object, Parameters<typeof derivedErrorStatuses>[3], number[]][] = [
    ['GET', '/api/projects', {}, 'user', [401, 403, 503]],
    ['GET', '/api/projects/:ref', { params: body }, 'user', [400, 401, 403, 404, 414, 503]],
    ['GET', '/api/tasks', { querystring: body }, 'user', [400, 401, 403, 503]],
    ['POST', '/api/projects', { body }, 'user', [400, 401, 403, 409, 413, 415, 503, 507]],
    ['DELETE', '/api/projects/:ref', { params: body }, 'user', [400, 401, 403, 404, 414, 409, 503, 507]],
    ['POST', '/api/agent/register', { body }, 'public', [400, 409, 413, 415, 503, 507]],
    ['POST', '/api/agent/poll', { body }, 'worker', [400, 401, 403, 409, 413, 415, 503, 507]],
  ];
  for (const [method, url, schema, access, expected] of cases) {
    assert.deepEqual(derivedErrorStatuses(method, url, schema, access).sort(), expected.sort(), `${method} ${url}`);
  }
});

test("a route's own responses win over the derived ones, and its access sets its security", () => {
  const own = Type.Object({ id: Type.String() });
  const special = errorBody(401);
  const schema = documentRoute(
    'POST',
    '/api/agent/register',
    { body: Type.Object({}), response: { 201: own, 401: special } },
    'public',
  );
  const response = schema.response as Record<string, unknown>;
  assert.equal(response[201], own);
  assert.equal(response[401], special);
  assert.ok(response[400]);
  assert.deepEqual(schema.security, []);
  assert.deepEqual(documentRoute('GET', '/api/agent/packages/:id', {}, 'workerOrPackageToken').security, [
    { workerCredential: [] },
    { packageToken: [] },
  ]);
});

test("an error's documented codes are those the registry answers with its status", () => {
  const codes = (status: number) =>
    (errorBody(status) as unknown as { properties: { code: { enum: string[] } } }).properties.code.enum;
  assert.deepEqual(codes(401).sort(), ['REGISTRATION_TOKEN_INVALID', 'UNAUTHENTICATED']);
  assert.deepEqual(codes(422).sort(), ['INVALID_PACKAGE', 'INVALID_REFERENCE']);
  assert.throws(() => errorBody(418), /No error code answers with HTTP 418/);
});

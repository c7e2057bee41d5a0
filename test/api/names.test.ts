import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const step = (name: string) => ({ name, script: { body: 'true' } });

test('apply refuses a document that names one thing twice, naming both places, and writes nothing', async () => {
  const cases: [string, object, RegExp][] = [
    [
      'environments',
      { environments: [{ name: 'DupEnv' }, { name: 'Other' }, { name: 'DupEnv' }] },
      /environments\[0\] and environments\[2\] are both named 'DupEnv'/,
    ],
    [
      'environments by case',
      { environments: [{ name: 'CaseEnv' }, { name: 'A' }, { name: 'B' }, { name: 'caseenv' }] },
      /environments\[0\] and environments\[3\] are both named 'CaseEnv'/,
    ],
    [
      'environments by normalisation',
      { environments: [{ name: 'Caf\u00e9' }, { name: 'Cafe\u0301' }] },
      /environments\[0\] and environments\[1\] are both named 'Caf\u00e9'/,
    ],
    ['worker pools', { workerPools: [{ name: 'Pool' }, { name: 'POOL' }] }, /workerPools\[0\] and workerPools\[1\]/],
    [
      'projects',
      { projects: [{ name: 'DupProject' }, { name: 'dupproject' }] },
      /projects\[0\] and projects\[1\] are both named 'DupProject'/,
    ],
    [
      'targets',
      {
        environments: [{ name: 'TEnv' }],
        targets: [
          { name: 'T', type: 'generic', environments: ['TEnv'] },
          { name: 't', type: 'generic', environments: ['TEnv'] },
        ],
      },
      /targets\[0\] and targets\[1\] are both named 'T'/,
    ],
    [
      'variables in one project',
      {
        projects: [
          {
            name: 'VarProject',
            variables: [
              { name: 'V', value: '1' },
              { name: 'W', value: '2' },
              { name: 'v', value: '3' },
            ],
          },
        ],
      },
      /projects\[0\] 'VarProject': variables\[0\] and variables\[2\] are both named 'V' with the same scope/,
    ],
  ];
  for (const [what, doc, message] of cases) {
    const res = await h.api('POST', '/api/apply', doc);
    assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.code, 'VALIDATION_FAILED', what);
    assert.match(res.body.message, message, what);
  }
  for (const [path, name] of [
    ['environments', 'DupEnv'],
    ['environments', 'CaseEnv'],
    ['environments', 'TEnv'],
    ['worker-pools', 'Pool'],
    ['projects', 'DupProject'],
    ['projects', 'VarProject'],
  ]) {
    assert.equal(
      (await h.api('GET', `/api/${path}/${encodeURIComponent(name!)}`)).status,
      404,
      `${name} was not written`,
    );
  }
});

test('one variable name may have several values when their scopes differ', async () => {
  await h.api('POST', '/api/environments', { name: 'ScopeA' });
  await h.api('POST', '/api/environments', { name: 'ScopeB' });
  const res = await h.api('POST', '/api/projects', {
    name: 'Scoped',
    variables: [
      { name: 'V', value: 'a', scope: { environments: ['ScopeA'] } },
      { name: 'v', value: 'b', scope: { environments: ['ScopeB'] } },
      { name: 'V', value: 'all' },
    ],
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const same = await h.api('PUT', '/api/projects/Scoped/variables', [
    { name: 'V', value: 'a', scope: { environments: ['ScopeA', 'ScopeB'] } },
    { name: 'v', value: 'b', scope: { environments: ['scopeb', 'scopea'] } },
  ]);
  assert.equal(same.status, 400);
  assert.match(same.body.message, /variables\[0\] and variables\[1\] are both named 'V' with the same scope/);
});

test('look-alike spellings of one name are one name on every route', async () => {
  const composed = 'Z\u00fcrich';
  const decomposed = 'Zu\u0308rich';
  const created = await h.api('POST', '/api/environments', { name: decomposed });
  assert.equal(created.status, 201);
  assert.equal(created.body.name, composed, 'stored in NFC');
  for (const spelling of [composed, decomposed, 'z\u00fcRICH', 'ZU\u0308RICH']) {
    const read = await h.api('GET', `/api/environments/${encodeURIComponent(spelling)}`);
    assert.equal(read.status, 200, spelling);
    assert.equal(read.body.id, created.body.id);
    const again = await h.api('POST', '/api/environments', { name: spelling });
    assert.equal(again.status, 409, `${spelling}: ${JSON.stringify(again.body)}`);
    assert.match(again.body.message, /already exists/);
  }
  // Non-ASCII case is one name too, which SQLite's NOCASE alone would not see.
  assert.equal((await h.api('POST', '/api/worker-pools', { name: '\u00c9quipe' })).status, 201);
  assert.equal((await h.api('POST', '/api/worker-pools', { name: '\u00e9quipe' })).status, 409);
  assert.equal((await h.api('POST', '/api/projects', { name: '\u00c9cole' })).status, 201);
  assert.equal((await h.api('POST', '/api/projects', { name: '\u00e9cole' })).status, 409);
  assert.equal(
    (await h.api('POST', '/api/targets', { name: '\u00c5s', type: 'generic', environments: [decomposed] })).status,
    201,
  );
  assert.equal(
    (await h.api('POST', '/api/targets', { name: '\u00e5s', type: 'generic', environments: [composed] })).status,
    409,
  );
  // A rename onto another's name, spelt differently, is a conflict too.
  await h.api('POST', '/api/environments', { name: 'Geneva' });
  const rename = await h.api('PUT', '/api/environments/Geneva', { name: 'ZU\u0308RICH' });
  assert.equal(rename.status, 409);
  assert.equal((await h.api('GET', '/api/environments/Geneva')).status, 200);
  // Step names in one process follow the rule.
  const steps = await h.api('POST', '/api/projects', {
    name: 'Steps',
    process: { steps: [step('D\u00e9ploy'), step('de\u0301PLOY')] },
  });
  assert.equal(steps.status, 400);
  assert.match(steps.body.message, /already named/);
});

test('control characters in a name are refused with a 400 that names the field', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['/api/environments', { name: 'nul\u0000a' }, /body\.name .*no control characters/],
    ['/api/environments', { name: 'bell\u0007' }, /body\.name/],
    ['/api/worker-pools', { name: 'line\nbreak' }, /body\.name/],
    ['/api/worker-pools', { name: 'del\u007f' }, /body\.name/],
    ['/api/projects', { name: 'c1\u0085' }, /body\.name/],
    ['/api/projects', { name: 'P', process: { steps: [step('tab\there')] } }, /body\.process\.steps\.0\.name/],
    [
      '/api/projects',
      { name: 'P', variables: [{ name: 'V\u0000', value: 'x' }] },
      /body\.variables\.0\.name .*no control characters/,
    ],
    ['/api/targets', { name: 'esc\u001b[31m', type: 'generic', environments: ['Geneva'] }, /body\.name/],
    ['/api/apply', { environments: [{ name: 'nul\u0000b' }] }, /body\.environments\.0\.name/],
  ];
  for (const [path, body, message] of cases) {
    const res = await h.api('POST', path, body);
    assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.code, 'VALIDATION_FAILED');
    assert.match(res.body.message, message, JSON.stringify(body));
  }
  const names = (await h.api('GET', '/api/environments')).body.items.map((e: { name: string }) => e.name);
  assert.ok(!names.some((n: string) => /\p{Cc}/u.test(n)), JSON.stringify(names));
});

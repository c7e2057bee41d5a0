import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isErrorCode } from '@longshore/protocol';
import type { StoredVariable } from '../resources/projects.js';
import { VariableSet, selectVariables } from './variables.js';

const v = (name: string, value: string, scope: StoredVariable['scope'] = {}, sensitive = false): StoredVariable => ({ name, value, sensitive, scope });

test('the most specific scope wins', () => {
  const vars = [
    v('Url', 'default'),
    v('Url', 'staging', { environments: ['Staging'] }),
    v('Url', 'web-tag', { environments: ['Staging'], targetTags: ['web'] }),
    v('Url', 'web-1', { targets: ['web-1'] }),
    v('Url', 'prod', { environments: ['Production'] }),
  ];
  const pick = (environment: string, target?: { name: string; tags: string[] }) =>
    selectVariables(vars, { environment, ...(target ? { target } : {}) }).get('url')?.value;
  assert.equal(pick('Dev'), 'default');
  assert.equal(pick('staging'), 'staging');
  assert.equal(pick('Staging', { name: 'web-2', tags: ['web'] }), 'web-tag');
  assert.equal(pick('Staging', { name: 'web-1', tags: ['web'] }), 'web-1');
  assert.equal(pick('Production', { name: 'web-2', tags: ['web'] }), 'prod');
});

test('references expand recursively and carry sensitivity', () => {
  const set = new VariableSet(
    selectVariables([v('Host', 'db.local'), v('Password', 'p@ss', {}, true), v('Conn', 'host=#{Host} pw=#{Password}')], { environment: 'x' }),
  );
  assert.deepEqual(set.resolve('conn'), { name: 'Conn', value: 'host=db.local pw=p@ss', sensitive: true });
  assert.deepEqual(set.substitute('connect #{Host}; literal ##{Host}', 'script'), { text: 'connect db.local; literal #{Host}', sensitive: false });
});

test('an unknown reference names the chain', () => {
  const set = new VariableSet(selectVariables([v('A', '#{B}')], { environment: 'x' }));
  assert.throws(() => set.substitute('#{A}', 'the script'), (e: unknown) => isErrorCode(e, 'INVALID_REFERENCE') && /'B' is not defined \(referenced by 'the script' -> 'A'\)/.test((e as Error).message));
});

test('a cycle is reported as one', () => {
  const set = new VariableSet(selectVariables([v('A', '#{B}'), v('B', '#{C}'), v('C', '#{A}')], { environment: 'x' }));
  assert.throws(() => set.resolve('A'), (e: unknown) => isErrorCode(e, 'INVALID_REFERENCE') && /cycle: A -> B -> C -> A/.test((e as Error).message));
});

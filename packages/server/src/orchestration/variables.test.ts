import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isErrorCode } from '@longshore/protocol';
import type { StoredVariable } from '../resources/projects.js';
import { MAX_REFERENCE_DEPTH, VariableSet, selectVariables } from './variables.js';

const v = (name: string, value: string, scope: StoredVariable['scope'] = {}, sensitive = false): StoredVariable => ({
  name,
  value,
  sensitive,
  scope,
});

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
    selectVariables(
      [v('Host', 'db.local'), v('Password', 'p@ss', {}, true), v('Conn', 'host=#{Host} pw=#{Password}')],
      { environment: 'x' },
    ),
  );
  assert.deepEqual(set.resolve('conn'), { name: 'Conn', value: 'host=db.local pw=p@ss', sensitive: true });
  assert.deepEqual(set.substitute('connect #{Host}; literal ##{Host}', 'script'), {
    text: 'connect db.local; literal #{Host}',
    sensitive: false,
  });
});

test('an unknown reference names the chain', () => {
  const set = new VariableSet(selectVariables([v('A', '#{B}')], { environment: 'x' }));
  assert.throws(
    () => set.substitute('#{A}', 'the script'),
    (e: unknown) =>
      isErrorCode(e, 'INVALID_REFERENCE') &&
      /'B' is not defined \(referenced by 'the script' -> 'A'\)/.test((e as Error).message),
  );
});

test('a cycle is reported as one', () => {
  const set = new VariableSet(selectVariables([v('A', '#{B}'), v('B', '#{C}'), v('C', '#{A}')], { environment: 'x' }));
  assert.throws(
    () => set.resolve('A'),
    (e: unknown) => isErrorCode(e, 'INVALID_REFERENCE') && /cycle: A -> B -> C -> A/.test((e as Error).message),
  );
});

const chain = (length: number) =>
  Array.from({ length }, (_, i) => v(`C${i}`, i === length - 1 ? 'end' : `#{C${i + 1}}`));
const isDepthError = (name: string) => (e: unknown) =>
  isErrorCode(e, 'INVALID_REFERENCE') &&
  new RegExp(`Variable '${name}' is nested more than ${MAX_REFERENCE_DEPTH} references deep`).test(
    (e as Error).message,
  );

test('a chain of thousands of references is refused by depth, naming the variable, before the stack runs out', () => {
  const set = new VariableSet(selectVariables(chain(4000), { environment: 'x' }));
  assert.throws(() => set.substitute('#{C0}', 'the script'), isDepthError(`C${MAX_REFERENCE_DEPTH}`));
  assert.throws(
    () => new VariableSet(selectVariables(chain(4000), { environment: 'x' })).all(),
    isDepthError(`C${MAX_REFERENCE_DEPTH}`),
  );
});

test('whether a chain is too deep does not depend on the order its variables are resolved in', () => {
  const reversed = chain(MAX_REFERENCE_DEPTH + 1).reverse();
  assert.throws(
    () => new VariableSet(selectVariables(reversed, { environment: 'x' })).all(),
    (e: unknown) => isErrorCode(e, 'INVALID_REFERENCE') && /nested more than/.test((e as Error).message),
  );
  const deepest = new VariableSet(selectVariables(chain(MAX_REFERENCE_DEPTH).reverse(), { environment: 'x' }));
  assert.equal(deepest.all().length, MAX_REFERENCE_DEPTH, 'exactly the limit is fine');
});

test('doubling references are refused by size, naming the variable, before the runtime string limit', () => {
  const levels = Array.from({ length: 27 }, (_, i) => v(`D${i}`, i === 26 ? 'xxxxxxxx' : `#{D${i + 1}}#{D${i + 1}}`));
  const set = new VariableSet(selectVariables(levels, { environment: 'x' }));
  assert.throws(
    () => set.substitute('#{D0}', 'the script'),
    (e: unknown) =>
      isErrorCode(e, 'INVALID_REFERENCE') &&
      /^Variable 'D\d+' expands to more than 4 MiB \(it takes in 'D\d+'/.test((e as Error).message),
  );
});

test('many values that each repeat a large one are refused by their total size', () => {
  const big = 'x'.repeat(1024 * 1024);
  const copies = Array.from({ length: 10 }, (_, i) => v(`Copy${i}`, '#{Big}#{Big}'));
  const set = new VariableSet(selectVariables([v('Big', big), ...copies], { environment: 'x' }));
  assert.throws(
    () => set.all(),
    (e: unknown) =>
      isErrorCode(e, 'INVALID_REFERENCE') && /together \(reached at 'Copy\d'\)/.test((e as Error).message),
  );
});

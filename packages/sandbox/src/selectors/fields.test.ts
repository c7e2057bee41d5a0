import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isApiError } from '../errors.js';
import { matchFields, parseFieldSelector } from './fields.js';

const pod = (name: string, phase: string, node?: string) => ({
  metadata: { name, namespace: 'ns' },
  spec: { ...(node ? { nodeName: node } : {}) },
  status: { phase },
});

test('pod fields, != and escaped values', () => {
  const p = pod('a,b', 'Running', 'n1');
  assert.equal(matchFields(parseFieldSelector('status.phase=Running,spec.nodeName==n1', 'Pod'), 'Pod', p), true);
  assert.equal(matchFields(parseFieldSelector('spec.nodeName!=n1', 'Pod'), 'Pod', p), false);
  assert.equal(matchFields(parseFieldSelector('metadata.name=a\\,b', 'Pod'), 'Pod', p), true);
  assert.equal(
    matchFields(parseFieldSelector('spec.nodeName=', 'Pod'), 'Pod', pod('x', 'Pending')),
    true,
    'unscheduled pods have an empty nodeName',
  );
});

test('unsupported fields are 400 "field label not supported"', () => {
  assert.throws(
    () => parseFieldSelector('spec.foo=bar', 'Pod'),
    (e) => isApiError(e) && e.httpStatus === 400 && /field label not supported: spec.foo/.test(e.message),
  );
  assert.throws(
    () => parseFieldSelector('status.phase=Running', 'ConfigMap'),
    (e) => isApiError(e) && e.httpStatus === 400,
  );
  assert.throws(
    () => parseFieldSelector('nonsense', 'Pod'),
    (e) => isApiError(e) && e.httpStatus === 400,
  );
});

test('property: = and != on the same value partition every object', () => {
  const phases = fc.constantFrom('Pending', 'Running', 'Succeeded', 'Failed');
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !/[\\,=!]/.test(s)),
      phases,
      phases,
      (name, phase, wanted) => {
        const p = pod(name, phase);
        const eq = matchFields(parseFieldSelector(`status.phase=${wanted}`, 'Pod'), 'Pod', p);
        const ne = matchFields(parseFieldSelector(`status.phase!=${wanted}`, 'Pod'), 'Pod', p);
        assert.notEqual(eq, ne);
        assert.equal(matchFields(parseFieldSelector(`metadata.name=${name}`, 'Pod'), 'Pod', p), true);
      },
    ),
  );
});

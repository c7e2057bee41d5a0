import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { isErrorCode, type LongshoreError } from '../errors.js';
import { configFromEnv } from './configFromEnv.js';
import { parseConfig } from './parseConfig.js';

const Settings = Type.Object(
  {
    url: Type.String({ pattern: '^https?://' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 8080 }),
    verbose: Type.Boolean({ default: false }),
    hosts: Type.Array(Type.String(), { default: [] }),
    limits: Type.Object(
      { cpu: Type.Optional(Type.String()), retries: Type.Integer({ minimum: 0, default: 3 }) },
      { additionalProperties: false, default: {} },
    ),
    mode: Type.Optional(Type.Union([Type.Literal('fast'), Type.Literal('safe')])),
  },
  { additionalProperties: false },
);

const ENV = {
  APP_URL: 'url',
  APP_PORT: 'port',
  APP_VERBOSE: 'verbose',
  APP_HOSTS: 'hosts',
  APP_RETRIES: 'limits.retries',
  APP_CPU: 'limits.cpu',
};

const parse = (input: unknown) => parseConfig(Settings, input, { subject: 'The app configuration' });

function problemsOf(input: unknown): string[] {
  try {
    parse(input);
  } catch (error) {
    assert.ok(isErrorCode(error, 'CONFIG_INVALID'), String(error));
    return (error as LongshoreError).details!.problems as string[];
  }
  assert.fail('expected CONFIG_INVALID');
}

describe('parseConfig', () => {
  it('fills in defaults, nested ones too', () => {
    assert.deepEqual(parse({ url: 'https://x' }), {
      url: 'https://x',
      port: 8080,
      verbose: false,
      hosts: [],
      limits: { retries: 3 },
    });
  });

  it('converts text to the numbers and booleans the schema wants, and numbers to text', () => {
    const config = parse({ url: 'https://x', port: '9000', verbose: 'yes', limits: { cpu: 2, retries: '0' } });
    assert.equal(config.port, 9000);
    assert.equal(config.verbose, true);
    assert.deepEqual(config.limits, { cpu: '2', retries: 0 });
  });

  it('does not reshape a value of the wrong kind: a lone string is not a list', () => {
    assert.deepEqual(problemsOf({ url: 'https://x', hosts: 'a' }), ['/hosts: Expected array']);
  });

  it('lists every bad path in one error, each once', () => {
    const problems = problemsOf({ port: 'many', verbose: 'sometimes', extra: 1, limits: { retries: -1 }, mode: 'x' });
    for (const path of ['/url', '/port', '/verbose', '/extra', '/limits/retries', '/mode']) {
      assert.ok(
        problems.some((p) => p.startsWith(`${path}: `)),
        `${path} in ${problems.join(' | ')}`,
      );
    }
    assert.equal(new Set(problems).size, problems.length);
    assert.throws(
      () => parse({ port: 0 }),
      (e: Error) => /^The app configuration is not valid: .*\/url: .*; \/port: /.test(e.message),
    );
  });

  it('runs the checks across settings only once each setting is valid', () => {
    const check = (c: { port: number; limits: { retries: number } }) =>
      c.limits.retries > c.port ? ['/limits/retries: more retries than the port number'] : [];
    const options = { subject: 'The app configuration', check };
    assert.throws(
      () => parseConfig(Settings, { url: 'https://x', port: 2, limits: { retries: 5 } }, options),
      (e: LongshoreError) =>
        (e.details!.problems as string[]).join() === '/limits/retries: more retries than the port number',
    );
    assert.throws(
      () => parseConfig(Settings, { port: 2, limits: { retries: 5 } }, options),
      (e: LongshoreError) => (e.details!.problems as string[]).every((p) => p.startsWith('/url: ')),
    );
  });
});

describe('configFromEnv', () => {
  it('reads the variables the map names, converted by the schema; empty ones are unset', () => {
    const env = {
      APP_URL: 'https://x',
      APP_PORT: '9000',
      APP_VERBOSE: 'no',
      APP_HOSTS: 'a, b,,c',
      APP_RETRIES: '7',
      APP_CPU: '',
      UNRELATED: '1',
    };
    assert.deepEqual(configFromEnv(Settings, env, ENV), {
      url: 'https://x',
      port: 9000,
      verbose: false,
      hosts: ['a', 'b', 'c'],
      limits: { retries: 7 },
    });
  });

  it('keeps text that does not convert, so that parsing names the setting', () => {
    const input = configFromEnv(Settings, { APP_URL: 'https://x', APP_PORT: 'eighty', APP_VERBOSE: 'maybe' }, ENV);
    assert.deepEqual(
      problemsOf(input).map((p) => p.split(':')[0]),
      ['/port', '/verbose'],
    );
  });

  it('refuses a map that names a setting the schema lacks', () => {
    assert.throws(() => configFromEnv(Settings, {}, { APP_NOPE: 'nope' }), /APP_NOPE names the setting nope/);
  });
});

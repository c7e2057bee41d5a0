import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isErrorCode } from '@longshore/protocol';
import {
  DEFAULT_WORKER_CHART,
  SERVER_ENV_SETTINGS,
  ServerConfig,
  parseServerConfig,
  redactServerConfig,
  serverConfigFromEnv,
} from './config.js';

describe('server TLS configuration', () => {
  it('serves HTTPS unless plain HTTP is asked for explicitly', () => {
    const config = parseServerConfig({});
    assert.equal(config.insecureHttp, false);
    assert.equal(config.workerChart, DEFAULT_WORKER_CHART);
    for (const [raw, value] of [
      ['1', true],
      ['true', true],
      ['0', false],
      ['false', false],
    ] as const) {
      assert.equal(parseServerConfig(serverConfigFromEnv({ LONGSHORE_INSECURE_HTTP: raw })).insecureHttp, value, raw);
    }
    assert.throws(
      () => parseServerConfig(serverConfigFromEnv({ LONGSHORE_INSECURE_HTTP: 'sometimes' })),
      (e) => isErrorCode(e, 'CONFIG_INVALID') && /\/insecureHttp/.test((e as Error).message),
    );
  });

  it('reads the certificate files, public URL and chart from the environment', () => {
    const config = parseServerConfig(
      serverConfigFromEnv({
        LONGSHORE_TLS_CERT_FILE: '/etc/tls/tls.crt',
        LONGSHORE_TLS_KEY_FILE: '/etc/tls/tls.key',
        LONGSHORE_PUBLIC_URL: 'https://longshore.example.com',
        LONGSHORE_WORKER_CHART: 'charts/longshore-worker',
      }),
    );
    assert.deepEqual(
      [config.tlsCertFile, config.tlsKeyFile, config.publicUrl, config.workerChart],
      ['/etc/tls/tls.crt', '/etc/tls/tls.key', 'https://longshore.example.com', 'charts/longshore-worker'],
    );
  });

  it('refuses settings that contradict each other, saying which', () => {
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ tlsCertFile: '/c.pem' }, /tlsCertFile and tlsKeyFile go together/],
      [{ tlsKeyFile: '/k.pem' }, /tlsCertFile and tlsKeyFile go together/],
      [
        { insecureHttp: true, tlsCertFile: '/c.pem', tlsKeyFile: '/k.pem' },
        /insecureHttp serves plain HTTP, so tlsCertFile and tlsKeyFile would be ignored/,
      ],
      [{ publicUrl: 'longshore.example.com' }, /\/publicUrl/],
    ];
    for (const [input, message] of refusals) {
      assert.throws(
        () => parseServerConfig(input),
        (e) => isErrorCode(e, 'CONFIG_INVALID') && message.test((e as Error).message),
        JSON.stringify(input),
      );
    }
  });
});

describe('server configuration from the environment', () => {
  it('converts each variable by its setting and reports every bad one at once', () => {
    const input = serverConfigFromEnv({
      LONGSHORE_LEASE_MS: '90000',
      LONGSHORE_INSECURE_HTTP: 'yes',
      LONGSHORE_WORKER_CHART: '',
    });
    assert.deepEqual(input, { leaseMs: 90000, insecureHttp: true });
    assert.throws(
      () =>
        parseServerConfig(
          serverConfigFromEnv({
            LONGSHORE_LEASE_MS: 'soon',
            LONGSHORE_MAX_PACKAGE_BYTES: '12',
            LONGSHORE_PUBLIC_URL: 'x',
          }),
        ),
      (e) =>
        isErrorCode(e, 'CONFIG_INVALID') &&
        ['/leaseMs', '/maxPackageBytes', '/publicUrl'].every((path) => (e as Error).message.includes(`${path}: `)),
    );
  });

  it('names only settings the schema has', () => {
    for (const setting of Object.values(SERVER_ENV_SETTINGS)) assert.ok(setting in ServerConfig.properties, setting);
  });
});

describe('single sign-on configuration', () => {
  const sso = {
    LONGSHORE_OIDC_ISSUER: 'https://login.example.com/realms/main',
    LONGSHORE_OIDC_CLIENT_ID: 'longshore',
    LONGSHORE_OIDC_CLIENT_SECRET: 'the-client-secret',
  };

  it('reads the provider, its client and the default teams from the environment', () => {
    const config = parseServerConfig(serverConfigFromEnv({ ...sso, LONGSHORE_OIDC_DEFAULT_TEAMS: 'developers, ops' }));
    assert.equal(config.oidcIssuer, 'https://login.example.com/realms/main');
    assert.deepEqual(config.oidcDefaultTeams, ['developers', 'ops']);
    assert.equal(config.oidcScopes, 'openid profile email');
    assert.equal(config.oidcUsernameClaim, 'preferred_username');
    assert.deepEqual(parseServerConfig({}).oidcDefaultTeams, []);
  });

  it('never logs the client secret', () => {
    const logged = JSON.stringify(redactServerConfig(parseServerConfig(serverConfigFromEnv(sso))));
    assert.ok(!logged.includes('the-client-secret'), logged);
    assert.match(logged, /"oidcClientSecret":"\[redacted\]"/);
  });

  it('refuses a half-given client, a plain-HTTP provider elsewhere and scopes without openid', () => {
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ oidcIssuer: 'https://login.example.com' }, /\/oidcClientId: oidcIssuer, oidcClientId and oidcClientSecret go/],
      [{ oidcClientId: 'x', oidcClientSecret: 'y' }, /\/oidcIssuer: oidcIssuer, oidcClientId and oidcClientSecret go/],
      [{ oidcIssuer: 'http://login.example.com', oidcClientId: 'x', oidcClientSecret: 'y' }, /plain HTTP/],
      [
        { oidcIssuer: 'https://login.example.com', oidcClientId: 'x', oidcClientSecret: 'y', oidcScopes: 'profile' },
        /lacks openid/,
      ],
    ];
    for (const [input, message] of refusals)
      assert.throws(
        () => parseServerConfig(input),
        (e) => isErrorCode(e, 'CONFIG_INVALID') && message.test((e as Error).message),
        JSON.stringify(input),
      );
    // A provider on this machine may speak plain HTTP: its traffic never leaves it.
    for (const host of ['127.0.0.1:9000', 'localhost', '[::1]:9000'])
      assert.equal(
        parseServerConfig({ oidcIssuer: `http://${host}`, oidcClientId: 'x', oidcClientSecret: 'y' }).oidcIssuer,
        `http://${host}`,
      );
  });
});

describe('configuration of several server nodes', () => {
  it('reads the package storage and the master key from the environment', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const config = parseServerConfig(
      serverConfigFromEnv({
        LONGSHORE_PACKAGE_STORAGE: 'directory',
        LONGSHORE_PACKAGE_DIRECTORY: '/mnt/longshore-packages',
        LONGSHORE_MASTER_KEY: key,
      }),
    );
    assert.equal(config.packageStorage, 'directory');
    assert.equal(config.packageDirectory, '/mnt/longshore-packages');
    assert.equal(config.masterKey, key);
    assert.equal(redactServerConfig(config).masterKey, '[redacted]');
    assert.equal(parseServerConfig({}).packageStorage, 'directory');
  });

  it('refuses a package directory for database storage, an unknown storage and a key that is not 32 bytes', () => {
    for (const [input, message] of [
      [{ packageStorage: 'database', packageDirectory: '/mnt/p' }, /\/packageDirectory: .*packageStorage is database/],
      [{ packageStorage: 'nfs' }, /\/packageStorage/],
      [{ masterKey: Buffer.alloc(16).toString('base64') }, /\/masterKey/],
    ] as const) {
      assert.throws(
        () => parseServerConfig(input as never),
        (e) => isErrorCode(e, 'CONFIG_INVALID') && message.test((e as Error).message),
      );
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isErrorCode } from './errors.js';
import { parseCertificateThumbprint } from './thumbprint.js';

const SHA256 = '3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b';

describe('parseCertificateThumbprint', () => {
  it('reads the form the server prints and the form openssl prints as the same pin', () => {
    const openssl = SHA256.toUpperCase().replace(/(..)(?!$)/g, '$1:');
    assert.deepEqual(parseCertificateThumbprint(SHA256), { hex: SHA256, algorithm: 'sha256' });
    assert.deepEqual(parseCertificateThumbprint(` ${openssl}\n`), { hex: SHA256, algorithm: 'sha256' });
  });

  it('takes a SHA-1 thumbprint, as older tools print', () => {
    assert.deepEqual(parseCertificateThumbprint('AB'.repeat(20)), { hex: 'ab'.repeat(20), algorithm: 'sha1' });
  });

  it('refuses anything else, saying what it expected and where the value came from', () => {
    for (const bad of ['', 'abc', SHA256.slice(1), `${SHA256}00`, SHA256.replace('3', 'g'), `sha256:${SHA256}`]) {
      assert.throws(
        () => parseCertificateThumbprint(bad, '--server-thumbprint'),
        (e) =>
          isErrorCode(e, 'CONFIG_INVALID') &&
          (e as Error).message.startsWith(
            `--server-thumbprint '${bad}' is not a certificate thumbprint: expected 64 hex digits`,
          ),
      );
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isErrorCode } from '@longshore/protocol';
import { FakeKubeApi } from './fakeKubeApi.fixture.js';
import { SecretCredentialStore } from './secretCredentialStore.js';

const credential = {
  workerId: 'worker_1',
  credential: 'lsw_secret',
  serverUrl: 'https://longshore.example',
  name: 'w',
  pools: ['default'],
};

describe('SecretCredentialStore', () => {
  it('creates the Secret when missing, fills the one the chart made, and reads it back', async () => {
    const api = new FakeKubeApi();
    const store = new SecretCredentialStore(api, 'release-credential');
    assert.equal(await store.load(), undefined);
    await store.save(credential);
    assert.deepEqual(await store.load(), credential);

    const charted = new FakeKubeApi();
    await charted.createSecret({
      metadata: { name: 'release-credential', labels: { 'app.kubernetes.io/instance': 'release' } },
    });
    const filled = new SecretCredentialStore(charted, 'release-credential');
    assert.equal(await filled.load(), undefined, 'the chart leaves it empty');
    await filled.save(credential);
    assert.deepEqual(await filled.load(), credential);
    assert.equal(
      charted.secrets.get('release-credential')!.metadata!.labels!['app.kubernetes.io/instance'],
      'release',
      "the chart's labels stay",
    );
    assert.ok(charted.calls.includes('replaceSecret release-credential'));
  });

  it('a damaged credential is an error that says what to do', async () => {
    const api = new FakeKubeApi();
    await api.createSecret({
      metadata: { name: 'c' },
      data: { 'credential.json': Buffer.from('{"nope":1}').toString('base64') },
    });
    await assert.rejects(
      new SecretCredentialStore(api, 'c').load(),
      (e) => isErrorCode(e, 'CONFIG_INVALID') && /Secret longshore\/c .* delete it/.test((e as Error).message),
    );
  });
});

import type { V1Secret } from '@kubernetes/client-node';
import { parseStoredCredential, type CredentialStore, type StoredCredential } from '../../credential.js';
import type { KubeApi } from './kubeApi.js';

const KEY = 'credential.json';

/**
 * The worker's credential in a Secret of its namespace: a worker pod has no disk that outlives
 * it, and a registration token is single-use, so the credential must survive restarts and
 * rescheduling. The chart creates the Secret empty (so `helm uninstall` removes it with the
 * release); the worker fills it, or creates it when run without the chart.
 */
export class SecretCredentialStore implements CredentialStore {
  readonly location: string;

  constructor(
    private readonly api: Pick<KubeApi, 'readSecret' | 'createSecret' | 'replaceSecret' | 'namespace'>,
    private readonly name: string,
  ) {
    this.location = `Secret ${api.namespace}/${name} (key ${KEY})`;
  }

  async load(): Promise<StoredCredential | undefined> {
    const data = (await this.api.readSecret(this.name))?.data?.[KEY];
    return data ? parseStoredCredential(Buffer.from(data, 'base64').toString('utf8'), this.location) : undefined;
  }

  async save(credential: StoredCredential): Promise<void> {
    const data = { [KEY]: Buffer.from(JSON.stringify(credential)).toString('base64') };
    const existing = await this.api.readSecret(this.name);
    if (!existing) {
      const secret: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name: this.name, labels: { 'app.kubernetes.io/component': 'worker-credential' } },
        data,
      };
      await this.api.createSecret(secret);
      return;
    }
    await this.api.replaceSecret({ ...existing, data: { ...existing.data, ...data } });
  }
}

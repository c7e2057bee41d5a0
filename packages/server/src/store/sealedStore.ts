import type { SecretBox } from '../crypto/secretBox.js';
import type { Store } from './database.js';

/** The store and the box that seals what the store must not hold readable (payloads, contexts, snapshots). */
export interface SealedStore {
  db: Store;
  box: SecretBox;
}

import { join } from 'node:path';
import type { ServerConfig } from '../config.js';
import type { Store } from '../store/database.js';
import { DatabasePackageStorage } from './databaseStorage.js';
import { DirectoryPackageStorage } from './directoryStorage.js';
import type { PackageStorage } from './packageStorage.js';

/**
 * The package storage the configuration chooses. A directory receives pushes inside itself, so that
 * moving one into place stays a rename on one filesystem; the database receives them on this node's disk.
 */
export function configuredPackageStorage(
  config: Pick<ServerConfig, 'dataDir' | 'packageStorage' | 'packageDirectory'>,
  db: Store,
): PackageStorage {
  const local = join(config.dataDir, 'packages');
  return config.packageStorage === 'database'
    ? new DatabasePackageStorage(db, join(local, 'uploads'))
    : new DirectoryPackageStorage(db, config.packageDirectory ?? local);
}

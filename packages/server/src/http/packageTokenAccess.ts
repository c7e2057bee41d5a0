import { LongshoreError, isActiveOperationState, type Operation } from '@longshore/protocol';
import { verifyPackageToken } from '../crypto/packageTokens.js';
import type { SecretBox } from '../crypto/secretBox.js';
import type { Store } from '../store/database.js';

/** The bearer of a package token: it may download these packages and call nothing else. */
export interface PackageTokenPrincipal {
  kind: 'packageToken';
  operationId: string;
  packages: { packageId: string; version: string }[];
}

/**
 * Checks a package token on every use: signature and expiry, then that its operation is still
 * running for the worker it was issued to, so a token dies with its operation (or when the
 * operation is lost and its lease taken back), whatever its expiry says.
 */
export async function authenticatePackageToken(
  db: Store,
  box: SecretBox,
  token: string,
): Promise<PackageTokenPrincipal> {
  const claims = verifyPackageToken(box, token, Date.now());
  const op = await db
    .selectFrom('operations')
    .select(['worker_id', 'state', 'payload'])
    .where('id', '=', claims.operationId)
    .executeTakeFirst();
  if (!op || op.worker_id !== claims.workerId || !isActiveOperationState(op.state)) {
    throw new LongshoreError(
      'UNAUTHENTICATED',
      `The package token is for operation ${claims.operationId}, which is no longer running on the worker that asked for it; package tokens end with their operation`,
    );
  }
  const operation = box.openJson<Operation>(op.payload);
  return {
    kind: 'packageToken',
    operationId: claims.operationId,
    packages: operation.packages
      .filter((p) => p.format !== 'docker-image')
      .map(({ packageId, version }) => ({ packageId, version })),
  };
}

/** FORBIDDEN unless the package is one of the token's operation's packages. */
export function requirePackageInScope(principal: PackageTokenPrincipal, packageId: string, version: string): void {
  if (!principal.packages.some((p) => p.packageId === packageId && p.version === version)) {
    throw new LongshoreError(
      'FORBIDDEN',
      `This package token downloads only the packages of operation ${principal.operationId}; ${packageId} ${version} is not one of them`,
      { operationId: principal.operationId },
    );
  }
}

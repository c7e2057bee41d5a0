import { LongshoreError, isLongshoreError, type Operation } from '@longshore/protocol';
import { retryTransient } from '../../retry.js';
import type { AgentChannel } from '../../serverClient.js';
import type { PackageTokenIssuer } from './kubernetesExecutor.js';
import type { PackageAccess } from './scriptPodSpec.js';

export interface ChannelPackageTokenIssuerOptions {
  /** Tries when the server cannot answer; without a token the operation fails, so a server restart is waited out briefly. */
  attempts?: number;
  retryInitialMs?: number;
  random?: () => number;
}

const DEFAULT_ATTEMPTS = 4;
const DEFAULT_RETRY_INITIAL_MS = 500;

/** Asks the server, over the worker's own channel and credential, for an operation's package token. */
export class ChannelPackageTokenIssuer implements PackageTokenIssuer {
  constructor(
    private readonly channel: Pick<AgentChannel, 'packageToken'>,
    private readonly options: ChannelPackageTokenIssuerOptions = {},
  ) {}

  async issue(operation: Operation, signal: AbortSignal): Promise<PackageAccess> {
    try {
      const { token } = await retryTransient(() => this.channel.packageToken(operation.id, signal), {
        attempts: this.options.attempts ?? DEFAULT_ATTEMPTS,
        backoff: {
          initialMs: this.options.retryInitialMs ?? DEFAULT_RETRY_INITIAL_MS,
          maxMs: 10_000,
          random: this.options.random,
        },
        signal,
      });
      return { token };
    } catch (error) {
      if (signal.aborted) throw error;
      const message = `The server gave no package token for the script pod's init container: ${(error as Error).message}`;
      throw isLongshoreError(error)
        ? new LongshoreError(error.code, message, error.details)
        : new LongshoreError('INTERNAL', message);
    }
  }
}

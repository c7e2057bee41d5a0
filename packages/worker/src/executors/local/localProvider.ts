import { tmpdir } from 'node:os';
import type { ExecutorProvider } from '../executorProvider.js';
import { LocalExecutor } from './localExecutor.js';

/** Scripts as child processes on the worker's machine. */
export const localExecutorProvider: ExecutorProvider<'local'> = {
  kind: 'local',
  create: async (config, { channel, log }) => ({
    executor: new LocalExecutor({
      channel,
      workspace: { workerName: config.name, serverUrl: config.serverUrl },
      tempDir: config.tempDir ?? tmpdir(),
      dataDir: config.dataDir,
      log,
    }),
  }),
};

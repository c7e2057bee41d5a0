#!/usr/bin/env node
import { Command, Option } from 'commander';
import { LONGSHORE_VERSION, isLongshoreError } from '@longshore/protocol';
import { registerClientCommands } from './commands/clientCommands.js';
import { registerDeployCommands } from './commands/deployCommands.js';
import { registerServerCommand } from './commands/serverCommand.js';
import { registerWorkerCommand } from './commands/workerCommand.js';
import { registerDemoCommand } from './commands/demoCommand.js';

const program = new Command('longshore')
  .version(LONGSHORE_VERSION)
  .description('Deployment automation with auto-scaling Kubernetes workers')
  .option('--url <url>', 'server URL (default: $LONGSHORE_URL or http://127.0.0.1:8080)')
  .option('--api-key <key>', 'API key (default: $LONGSHORE_API_KEY, else the admin key in $LONGSHORE_DATA or ./.longshore)')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
  .showHelpAfterError();

registerServerCommand(program);
registerWorkerCommand(program);
registerClientCommands(program);
registerDeployCommands(program);
registerDemoCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // Typed errors carry a message the user can act on; anything else is a bug worth its stack.
  if (isLongshoreError(e)) process.stderr.write(`error [${e.code}]: ${e.message}\n`);
  else process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
}

#!/usr/bin/env node
import { Command, Option } from 'commander';
import { LONGSHORE_VERSION } from '@longshore/protocol';
import { registerClientCommands } from './commands/clientCommands.js';
import { registerStepsCommands } from './commands/stepsCommands.js';
import { registerIdentityCommands } from './commands/identityCommands.js';
import { registerDeployCommands } from './commands/deployCommands.js';
import { registerWebhookCommands } from './commands/webhookCommands.js';
import { registerSandboxCommand } from './commands/sandboxCommand.js';
import { registerServerCommand } from './commands/serverCommand.js';
import { registerMigrateCommand } from './commands/migrateCommand.js';
import { registerWorkerCommand } from './commands/workerCommand.js';
import { registerDemoCommand } from './commands/demoCommand.js';
import { registerFetchPackagesCommand } from './commands/fetchPackagesCommand.js';
import { failureMessage } from './failureMessage.js';

// Positional options: `--version` belongs to the program only before a subcommand, so
// `packages push --version 1.2.3` is the package's version, not a request for ours.
// Commands import their service (server, worker, sandbox) when they run, so each process carries
// only its own: a worker's memory is not spent on the server's database and HTTP framework.
const program = new Command('longshore')
  .version(LONGSHORE_VERSION)
  .description('Deployment automation with auto-scaling Kubernetes workers')
  .enablePositionalOptions()
  .showHelpAfterError();

const serverVerbs = registerServerCommand(program);
registerWorkerCommand(program);
registerSandboxCommand(program);
registerFetchPackagesCommand(program);
registerMigrateCommand(program);
const services = new Set(program.commands);
registerClientCommands(program);
registerDeployCommands(program);
registerStepsCommands(program);
registerIdentityCommands(program);
registerWebhookCommands(program);
registerDemoCommand(program);
for (const command of program.commands)
  if (!services.has(command) && command.name() !== 'demo') addClientOptions(command);
for (const verb of serverVerbs) addClientOptions(verb);

/** Every client verb, at every depth, takes where the server is and how to print. */
function addClientOptions(command: Command): void {
  command
    .enablePositionalOptions()
    .option('--url <url>', 'server URL (default: $LONGSHORE_URL or https://127.0.0.1:8080)')
    .option(
      '--server-thumbprint <sha256>',
      "pin an HTTPS server's certificate by the thumbprint it prints at start (default: $LONGSHORE_SERVER_THUMBPRINT)",
    )
    .option(
      '--api-key <key>',
      'API key (default: $LONGSHORE_API_KEY, else the admin key in $LONGSHORE_DATA or ./.longshore)',
    )
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'));
  for (const sub of command.commands) addClientOptions(sub);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`${failureMessage(e)}\n`);
  process.exitCode = 1;
}

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { ApplyDocument, LongshoreClient, NamedResourceApi } from '@longshore/client';
import { LongshoreError } from '@longshore/protocol';
import { clientOptionsFromEnv, createApiClient } from '../apiClient.js';
import { printList, printObject, type OutputFormat } from '../output.js';
import { readYamlFile } from '../yamlFile.js';

interface GlobalFlags {
  url?: string;
  apiKey?: string;
  serverThumbprint?: string;
  output: OutputFormat;
}

export function clientFor(cmd: Command): { client: LongshoreClient; output: OutputFormat } {
  const flags = clientFlags(cmd);
  return { client: createApiClient(clientOptionsFromEnv(flags)), output: flags.output };
}

/**
 * Every level of a verb declares the client flags, and positional options give each level the flags
 * written after it. The flag nearest the verb the user typed wins; commander's `optsWithGlobals` lets
 * an ancestor win instead, so `workers token -o json` printed a table (the parent's default).
 */
function clientFlags(cmd: Command): GlobalFlags {
  const chain: Command[] = [];
  for (let at: Command | null = cmd; at; at = at.parent) chain.push(at);
  const given = (key: keyof GlobalFlags) => {
    const from = chain.find((c) => c.getOptionValue(key) !== undefined && c.getOptionValueSource(key) !== 'default');
    return (from ?? cmd).getOptionValue(key) as unknown;
  };
  return {
    url: given('url') as string | undefined,
    apiKey: given('apiKey') as string | undefined,
    serverThumbprint: given('serverThumbprint') as string | undefined,
    output: given('output') as OutputFormat,
  };
}

function readLocalFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new LongshoreError(
      'VALIDATION_FAILED',
      `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
}

/** Reads longshore.yaml; a syntax error names the line and column, and the server checks the rest. */
export function readApplyFile(path: string): ApplyDocument {
  const value = readYamlFile(path, 'VALIDATION_FAILED');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LongshoreError(
      'VALIDATION_FAILED',
      `${path} must be a mapping with environments, workerPools, targets and projects`,
    );
  }
  return value as ApplyDocument;
}

/** `--set key=value`: the value may hold `=` too. */
function splitSetting(pair: string): [string, string] {
  const at = pair.indexOf('=');
  if (at <= 0)
    throw new LongshoreError(
      'VALIDATION_FAILED',
      `--set ${pair}: expected key=value, e.g. --set scriptPods.pendingTimeout=30m`,
    );
  return [pair.slice(0, at), pair.slice(at + 1)];
}

export function registerClientCommands(program: Command): void {
  program
    .command('apply')
    .description('create or update environments, pools, targets and projects from a YAML file, all or nothing')
    .requiredOption('-f, --file <path>', 'the longshore.yaml to apply')
    .action(async (opts: { file: string }, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      const result = await client.apply(readApplyFile(opts.file));
      if (output === 'json') printObject(result, output);
      else
        for (const [kind, names] of Object.entries(result))
          if (names.length) process.stdout.write(`${kind}: ${names.join(', ')}\n`);
    });

  const list = <T>(
    name: string,
    description: string,
    kind: (client: LongshoreClient) => NamedResourceApi<T>,
    columns: [string, (r: T) => unknown][],
  ) =>
    program
      .command(name)
      .description(description)
      .argument('[ref]', 'show one, by name or id')
      .action(async (ref: string | undefined, _opts: unknown, cmd: Command) => {
        const { client, output } = clientFor(cmd);
        if (ref) return printObject(await kind(client).get(ref), output);
        printList(
          await kind(client).list(),
          columns.map(([header, value]) => ({ header, value })),
          output,
        );
      });

  list('projects', 'list projects', (c) => c.projects, [
    ['name', (r) => r.name],
    ['steps', (r) => r.process.steps.length],
    ['id', (r) => r.id],
  ]);
  list('environments', 'list environments', (c) => c.environments, [
    ['name', (r) => r.name],
    ['id', (r) => r.id],
  ]);
  list('pools', 'list worker pools', (c) => c.workerPools, [
    ['name', (r) => r.name],
    ['default', (r) => (r.isDefault ? 'yes' : '')],
    ['id', (r) => r.id],
  ]);
  list('targets', 'list deployment targets', (c) => c.targets, [
    ['name', (r) => r.name],
    ['type', (r) => r.type],
    ['environments', (r) => r.environments],
    ['tags', (r) => r.tags],
  ]);
  list(
    'machine-policies',
    'list machine policies: how often workers are checked and what happens to unavailable ones',
    (c) => c.machinePolicies,
    [
      ['name', (r) => r.name],
      ['interval', (r) => `${r.healthCheckIntervalSeconds}s`],
      ['timeout', (r) => `${r.healthCheckTimeoutSeconds}s`],
      [
        'unavailable',
        (r) =>
          r.unavailableWorkers.action === 'delete' ? `delete after ${r.unavailableWorkers.deleteAfterHours}h` : 'keep',
      ],
      ['updates', (r) => r.updates],
      ['default', (r) => (r.isDefault ? 'yes' : '')],
    ],
  );
  const workers = list('workers', 'list workers', (c) => c.workers, [
    ['name', (r) => r.name],
    ['status', (r) => (r.disabled ? 'disabled' : r.status)],
    ['executor', (r) => r.executor],
    ['pools', (r) => r.pools],
    ['running', (r) => `${r.running}/${r.capacity}`],
    ['version', (r) => r.version],
    ['upgrade', (r) => (r.upgradeAvailable ? 'available' : '')],
    ['health', (r) => (r.healthReasons.length ? `${r.health}: ${r.healthReasons.join('; ')}` : r.health)],
    ['checked', (r) => r.lastHealthCheck],
  ]);
  /** `workers check` and `workers upgrade`: one worker or --all, each a task; --follow prints their logs. */
  const perWorkerTasks = <T extends { worker: string; taskId: string | null }>(spec: {
    name: string;
    argument: string;
    all: string;
    description: string;
    one: (client: LongshoreClient, ref: string) => Promise<T>;
    every: (client: LongshoreClient) => Promise<T[]>;
    columns: { header: string; value: (row: T) => string }[];
  }) =>
    workers
      .command(spec.name)
      .argument('[worker]', spec.argument)
      .option('--all', spec.all)
      .option('--follow', 'follow each task log until it ends')
      .description(spec.description)
      .action(async (ref: string | undefined, opts: { all?: boolean; follow?: boolean }, cmd: Command) => {
        if (!ref === !opts.all)
          throw new LongshoreError('VALIDATION_FAILED', `Name one worker to ${spec.name}, or give --all (not both)`);
        const { client, output } = clientFor(cmd);
        const started = ref ? [await spec.one(client, ref)] : await spec.every(client);
        printList(started, spec.columns, output);
        if (!opts.follow) return;
        for (const { worker, taskId } of started) {
          if (taskId === null) continue;
          const state = await client.tasks.follow(taskId, {
            onLine: (line) => process.stdout.write(`[${worker}] ${line.text}\n`),
          });
          if (state !== 'succeeded') process.exitCode = 2;
        }
      });
  perWorkerTasks({
    name: 'check',
    argument: 'the worker to check',
    all: 'check every enabled worker',
    description: 'start health checks; prints their task ids',
    one: (client, ref) => client.workers.check(ref),
    every: (client) => client.workers.checkAll(),
    columns: [
      { header: 'worker', value: (c) => c.worker },
      { header: 'task', value: (c) => c.taskId },
    ],
  });
  perWorkerTasks({
    name: 'upgrade',
    argument: 'the Kubernetes worker to upgrade',
    all: 'upgrade every enabled worker that is behind',
    description:
      "upgrade Kubernetes workers to the chart and worker version this server ships (helm upgrade of the worker's own release, rolled back if the new worker does not come back)",
    one: (client, ref) => client.workers.upgrade(ref),
    every: (client) => client.workers.upgradeAll(),
    columns: [
      { header: 'worker', value: (u) => u.worker },
      { header: 'task', value: (u) => u.taskId ?? '' },
      { header: 'message', value: (u) => u.message },
    ],
  });
  for (const verb of ['disable', 'enable'] as const) {
    workers
      .command(verb)
      .argument('<worker>')
      .description(`${verb} a worker`)
      .action(async (ref: string, _o: unknown, cmd: Command) => {
        const { client, output } = clientFor(cmd);
        printObject(await client.workers[verb](ref), output);
      });
  }
  workers
    .command('delete')
    .argument('<worker>')
    .description('remove a worker')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      await clientFor(cmd).client.workers.delete(ref);
    });
  workers
    .command('token')
    .description('create a one-time registration token for a new worker')
    .option('--pool <pool...>', 'pools the worker joins', ['default'])
    .option('--expires-in <minutes>', 'minutes until the token expires', '60')
    .action(async (opts: { pool: string[]; expiresIn: string }, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      printObject(
        await client.workers.createRegistrationToken({ pools: opts.pool, expiresInMinutes: Number(opts.expiresIn) }),
        output,
      );
    });
  workers
    .command('install-command')
    .description('print the helm command that installs a Kubernetes worker, with a fresh single-use registration token')
    .requiredOption('--pool <pool...>', 'pools the worker serves')
    .option('--name <name>', 'worker name (default: the Helm release name)')
    .option('--namespace <ns>', 'namespace to install into, created if missing (default: longshore)')
    .option(
      '--set <key=value>',
      'another chart value, e.g. scriptPods.pendingTimeout=30m (repeatable)',
      (pair: string, all: string[]) => [...all, pair],
      [] as string[],
    )
    .option('--expires-in <minutes>', "minutes until the command's token expires (default: the server's, 60)")
    .action(
      async (
        opts: { pool: string[]; name?: string; namespace?: string; set: string[]; expiresIn?: string },
        cmd: Command,
      ) => {
        const { client, output } = clientFor(cmd);
        const result = await client.workers.installCommand({
          pools: opts.pool,
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.namespace ? { namespace: opts.namespace } : {}),
          values: Object.fromEntries(opts.set.map(splitSetting)),
          ...(opts.expiresIn ? { expiresInMinutes: Number(opts.expiresIn) } : {}),
        });
        if (output === 'json') return printObject(result, output);
        process.stdout.write(`${result.command}\n`);
        process.stderr.write(
          result.reinstall
            ? `Run it where helm reaches the cluster. It reinstalls the registered worker with the credential its chart kept on helm uninstall, so it has no token.\n`
            : `Run it where helm reaches the cluster. Its registration token is single-use and expires at ${result.expiresAt}.\n`,
        );
      },
    );

  const release = program.command('release').description('releases: immutable snapshots of a project');
  release
    .command('create')
    .argument('<project>')
    .option('--version <version>', 'semantic version; the next patch version when absent')
    .option('--notes <text>', 'release notes')
    .action(async (project: string, opts: { version?: string; notes?: string }, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      printObject(
        await client.releases.create(project, {
          ...(opts.version ? { version: opts.version } : {}),
          ...(opts.notes ? { notes: opts.notes } : {}),
        }),
        output,
      );
    });
  release
    .command('list')
    .argument('<project>')
    .action(async (project: string, _o: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      printList(
        await client.releases.list(project),
        [
          { header: 'version', value: (r) => r.version },
          { header: 'created', value: (r) => r.createdAt },
          { header: 'id', value: (r) => r.id },
        ],
        output,
      );
    });

  const packages = program.command('packages').description('the built-in package feed');
  packages
    .command('push')
    .argument('<file>', 'a .tar.gz or .zip archive')
    .requiredOption('--id <packageId>', 'package id')
    .requiredOption('--version <version>', 'semantic version')
    .action(async (file: string, opts: { id: string; version: string }, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      const body = readLocalFile(file);
      const pushed = await client.packages.push(opts.id, opts.version, new Uint8Array(body));
      if (output === 'json') printObject(pushed, output);
      else
        process.stdout.write(
          `Pushed ${basename(file)} as ${pushed.packageId} ${pushed.version} (${pushed.format}, ${pushed.size} bytes)\n`,
        );
    });
  packages.command('list').action(async (_o: unknown, cmd: Command) => {
    const { client, output } = clientFor(cmd);
    printList(
      await client.packages.list(),
      [
        { header: 'package', value: (r) => r.packageId },
        { header: 'version', value: (r) => r.version },
        { header: 'format', value: (r) => r.format },
        { header: 'size', value: (r) => r.size },
      ],
      output,
    );
  });
}

import type { Command } from 'commander';
import type { LongshoreClient, TaskLogLine } from '@longshore/client';
import { printList, printObject } from '../output.js';
import { clientFor } from './clientCommands.js';

/** Task lines print as `==> ...` (the progress of the deployment), script lines as `[step] ...`. */
export function printTaskLine(line: TaskLogLine): void {
  if (line.operationId === null) {
    process.stdout.write(`==> ${line.text}\n`);
    return;
  }
  const origin = line.target ? `${line.step}@${line.target}` : line.step;
  const text = `[${origin}] ${line.level === 'warning' ? 'WARNING: ' : ''}${line.text}\n`;
  (line.stream === 'stderr' ? process.stderr : process.stdout).write(text);
}

/** Follows to the end; the process exit code says whether the deployment succeeded. */
async function followToEnd(client: LongshoreClient, taskId: string): Promise<void> {
  const state = await client.tasks.follow(taskId, { onLine: printTaskLine });
  if (state !== 'succeeded') {
    process.stderr.write(`Task ${taskId} ${state}\n`);
    process.exitCode = state === 'cancelled' ? 3 : 2;
  }
}

export function registerDeployCommands(program: Command): void {
  program
    .command('deploy')
    .description('deploy a release of a project to an environment')
    .argument('<project>')
    .requiredOption('--to <environment>', 'the environment to deploy to')
    .option(
      '--release <version>',
      'the release; the newest when absent (made from the current process if there is none)',
    )
    .option('--follow', 'follow the task log until the deployment ends; exit non-zero unless it succeeded')
    .action(async (project: string, opts: { to: string; release?: string; follow?: boolean }, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      const deployment = await client.deployments.create({
        project,
        environment: opts.to,
        ...(opts.release ? { release: opts.release } : {}),
      });
      if (!opts.follow) return printObject(deployment, output);
      process.stdout.write(
        `Deploying ${project} ${deployment.releaseVersion} to ${opts.to} (task ${deployment.taskId})\n`,
      );
      await followToEnd(client, deployment.taskId);
    });

  const tasks = program
    .command('tasks')
    .description('list server tasks')
    .option('--state <state>', 'only tasks in this state')
    .action(async (opts: { state?: string }, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      printList(
        await client.tasks.list(opts.state ? { state: opts.state } : {}),
        [
          { header: 'id', value: (r) => r.id },
          { header: 'state', value: (r) => r.state },
          { header: 'description', value: (r) => r.description },
          { header: 'created', value: (r) => r.createdAt },
        ],
        output,
      );
    });
  tasks
    .command('get')
    .argument('<task>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      printObject(await client.tasks.get(id), output);
    });
  tasks
    .command('log')
    .argument('<task>')
    .option('--follow', 'keep following until the task ends')
    .action(async (id: string, opts: { follow?: boolean }, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      if (opts.follow) return followToEnd(client, id);
      const lines: TaskLogLine[] = [];
      for (let after = 0; ;) {
        const page = await client.tasks.logPage(id, after);
        if (page.lines.length === 0) break;
        if (output === 'json') lines.push(...page.lines);
        else page.lines.forEach(printTaskLine);
        after = page.cursor;
      }
      if (output === 'json') printObject(lines, output);
    });
  tasks
    .command('cancel')
    .argument('<task>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      const task = await client.tasks.cancel(id);
      printObject({ id: task.id, state: task.state }, output);
    });
}

import type { Command } from 'commander';
import type { StepUsage } from '@longshore/client';
import { printList } from '../output.js';
import { clientFor } from './clientCommands.js';

const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)}Mi`;

/** What a step asks for now, as people write it. */
function asked(step: StepUsage): string {
  if (step.resources === null) return 'pool default';
  if (step.resources === 'auto') return 'auto';
  const requests = (step.resources as { requests?: Record<string, string> }).requests ?? {};
  return (
    Object.entries(requests)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ') || 'pool default'
  );
}

/** `longshore steps usage PROJECT`: each step's measured use beside its requests and the recommendation. */
export function registerStepsCommands(program: Command): void {
  const steps = program.command('steps').description("a project's steps: what their script pods use");
  steps
    .command('usage')
    .description("each step's measured CPU and memory (last runs), its requests, and the recommended requests")
    .argument('<project>', 'the project, by name or id')
    .action(async (project: string, _opts: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      const usage = await client.projects.stepUsage(project);
      printList(
        usage,
        [
          { header: 'step', value: (s) => s.step },
          { header: 'runs', value: (s) => s.runs.length },
          {
            header: 'peak cpu',
            value: (s) => (s.runs.length ? `${Math.max(...s.runs.map((r) => r.peakCpuMillis))}m` : ''),
          },
          {
            header: 'peak memory',
            value: (s) => (s.runs.length ? mib(Math.max(...s.runs.map((r) => r.peakMemoryBytes))) : ''),
          },
          { header: 'oom-killed', value: (s) => s.runs.filter((r) => r.oomKilled).length || '' },
          { header: 'requests', value: asked },
          {
            header: 'recommended',
            value: (s) =>
              `${s.recommendation.cpuMillis}m, ${mib(s.recommendation.memoryBytes)}${s.recommendation.memoryLimitBytes !== undefined ? ` (limit ${mib(s.recommendation.memoryLimitBytes)})` : ''}${s.recommendation.state === 'learning' ? ` (learning: ${s.recommendation.samples} runs so far)` : ''}`,
          },
        ],
        output,
      );
    });
}

// The workload: projects whose steps have known true usage, and deployments of them over one or
// more simulated days — release trains where most projects deploy within minutes of each other,
// deployments scattered through the working day, and a nightly run of everything. A deployment
// runs its steps one after another on each of its targets, one script pod per step and target.
import { Random } from './random.js';
import {
  drawCharacter,
  drawRun,
  measuredPeakCpu,
  type RunUsage,
  type StepCharacter,
  type StepKind,
} from './usageProfile.js';

export interface ProjectStep {
  /** project/step: what the recommender and the VPA model learn per. */
  key: string;
  character: StepCharacter;
}

export interface Project {
  name: string;
  steps: ProjectStep[];
  targets: number;
}

/** One step on one target: its pod's true usage, fixed by the trace so every policy replays the same runs. */
export interface StepRun {
  stepKey: string;
  usage: RunUsage;
  /** The peak CPU the metrics windows would show with nothing in its way. */
  measuredPeakCpuMillis: number;
}

export interface Deployment {
  atSeconds: number;
  project: string;
  /** Per target, the step runs in order. */
  chains: StepRun[][];
}

export interface Trace {
  seed: number;
  days: number;
  projects: Project[];
  deployments: Deployment[];
}

export interface TraceOptions {
  seed: number;
  days: number;
  projects: number;
  /** Release trains per working day (spread from 10:00 to 17:00). */
  trainsPerDay: number;
  /** Mean minutes between scattered deployments in working hours (09:00-18:00). */
  scatteredEveryMinutes: number;
}

export const DEFAULT_TRACE: TraceOptions = {
  seed: 1,
  days: 2,
  projects: 36,
  trainsPerDay: 3,
  scatteredEveryMinutes: 5,
};

/** What projects look like: each is one of these processes, with its own draws of each step's
 *  character. Mostly scripts and rollouts, as in deployment work; the odd asset build, import and
 *  migration; one process fans out to many tenant targets. */
const PROCESSES: { name: string; steps: StepKind[]; targets: [number, number] }[] = [
  { name: 'web', steps: ['deploy', 'light'], targets: [1, 4] },
  { name: 'api', steps: ['growing', 'deploy', 'light'], targets: [1, 3] },
  { name: 'tenants', steps: ['light', 'deploy'], targets: [6, 12] },
  { name: 'reports', steps: ['memoryHeavy', 'light'], targets: [1, 2] },
  { name: 'assets', steps: ['build', 'deploy'], targets: [1, 3] },
  { name: 'config', steps: ['light'], targets: [2, 6] },
];

const STEP_NAMES: Record<StepKind, string> = {
  light: 'script',
  deploy: 'deploy',
  build: 'build',
  memoryHeavy: 'import',
  growing: 'migrate',
};

export function generateTrace(options: TraceOptions = DEFAULT_TRACE): Trace {
  const rng = new Random(options.seed);
  const projects: Project[] = Array.from({ length: options.projects }, (_, i) => {
    const process = PROCESSES[i % PROCESSES.length]!;
    const name = `${process.name}-${Math.floor(i / PROCESSES.length) + 1}`;
    return {
      name,
      targets: rng.int(...process.targets),
      steps: process.steps.map((kind, s) => ({
        key: `${name}/${s + 1}-${STEP_NAMES[kind]}`,
        character: drawCharacter(kind, rng),
      })),
    };
  });

  const starts: { at: number; project: Project }[] = [];
  const day = 86_400;
  const hour = 3_600;
  for (let d = 0; d < options.days; d++) {
    const nightly = d * day + 2 * hour;
    for (const p of projects) starts.push({ at: nightly + rng.uniform(0, 300), project: p });
    for (let t = 0; t < options.trainsPerDay; t++) {
      const train = d * day + 10 * hour + (t * 7 * hour) / Math.max(1, options.trainsPerDay - 1);
      for (const p of projects) if (rng.next() < 0.75) starts.push({ at: train + rng.uniform(0, 600), project: p });
    }
    for (let at = d * day + 9 * hour + rng.exponential(options.scatteredEveryMinutes * 60); at < d * day + 18 * hour;) {
      starts.push({ at, project: rng.pick(projects) });
      at += rng.exponential(options.scatteredEveryMinutes * 60);
    }
  }
  starts.sort((a, b) => a.at - b.at);

  const length = options.days * day;
  const deployments = starts.map(({ at, project }) => ({
    atSeconds: Math.round(at),
    project: project.name,
    chains: Array.from({ length: project.targets }, () =>
      project.steps.map((step) => {
        const usage = drawRun(step.character, at / length, rng);
        return { stepKey: step.key, usage, measuredPeakCpuMillis: measuredPeakCpu(usage) };
      }),
    ),
  }));
  return { seed: options.seed, days: options.days, projects, deployments };
}

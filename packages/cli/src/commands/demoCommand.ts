import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LongshoreError } from '@longshore/protocol';
import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import type { ApplyDocument, LongshoreClient } from '@longshore/client';
import { createApiClient } from '../apiClient.js';
import { runUntilSignal } from '../lifecycle.js';
import { printTaskLine } from './deployCommands.js';
import { readApplyFile } from './clientCommands.js';

const EXAMPLES = resolve(fileURLToPath(import.meta.url), '../../../../../examples');
const EXAMPLE_FILES = { kubernetes: join(EXAMPLES, 'autoscaling.yaml'), local: join(EXAMPLES, 'longshore.yaml') };

interface DemoFlags {
  executor: 'kubernetes' | 'local';
  port: number;
  data: string;
  file?: string;
  sandboxConfig: string;
}

/** What the demo runs besides the server: the next steps it prints depend on it. */
interface DemoWorker {
  nextSteps: string[];
  afterDeployment(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/**
 * `npm start`: a server, the sandbox cluster and a Kubernetes worker against it, the example
 * project applied and deployed once while you watch the cluster scale up and back down; then
 * it keeps serving so you can deploy again from another terminal. `--executor local` runs the
 * deployment as child processes of a local worker instead.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run a server, a sandbox cluster and a Kubernetes worker, apply the example project and deploy it once',
    )
    .addOption(
      new Option('--executor <kind>', 'kubernetes: script pods on the sandbox cluster; local: child processes')
        .choices(['kubernetes', 'local'])
        .default('kubernetes'),
    )
    .option('--port <port>', 'port to listen on', (v) => Number(v), Number(process.env.LONGSHORE_PORT ?? 8080))
    .option('--data <dir>', 'data directory', '.longshore')
    .option(
      '--file <path>',
      `the project file to apply; its first project is deployed to its first environment (default: examples/autoscaling.yaml, local: examples/longshore.yaml)`,
    )
    .option(
      '--sandbox-config <path>',
      'the sandbox cluster: node groups and autoscaler delays',
      join(EXAMPLES, 'sandbox.yaml'),
    )
    .action(async (opts: DemoFlags) => {
      const abort = new AbortController();
      const stops: (() => Promise<void>)[] = [];
      let stopping: Promise<void> | undefined;
      const stop = (): Promise<void> => {
        abort.abort();
        stopping ??= (async () => {
          for (const s of stops.splice(0).reverse()) await s();
        })();
        return stopping;
      };
      // What starts after a stop began (a signal during start-up) is stopped at once.
      const defer = (s: () => Promise<void>): void => {
        if (abort.signal.aborted) void s();
        else stops.push(s);
      };
      const run = async (): Promise<void> => {
        try {
          await runDemo(opts, defer, abort.signal);
        } catch (e) {
          if (abort.signal.aborted) return;
          await stop();
          throw e;
        }
      };
      await runUntilSignal('demo', stop, run());
    });
}

async function runDemo(
  opts: DemoFlags,
  defer: (stop: () => Promise<void>) => void,
  signal: AbortSignal,
): Promise<void> {
  const [{ serverConfigFromEnv, startServer }, { pino }] = await Promise.all([
    import('@longshore/server'),
    import('pino'),
  ]);
  const file = opts.file ?? EXAMPLE_FILES[opts.executor];
  const { project, environment, nextEnvironment, document } = deploymentOf(file);
  // Plain HTTP on loopback: nothing crosses the network, and the demo's clients need no certificate pin.
  const server = await startServer({
    ...serverConfigFromEnv(process.env),
    port: opts.port,
    dataDir: opts.data,
    logLevel: 'warn',
    insecureHttp: true,
  }).catch((e: unknown) => {
    if ((e as { code?: unknown }).code !== 'EADDRINUSE') throw e;
    throw new LongshoreError(
      'CONFIG_INVALID',
      `Port ${opts.port} is taken (another Longshore demo?): stop that, or pick another port with LONGSHORE_PORT=8081 npm start`,
    );
  });
  defer(() => server.close());
  const client = createApiClient({
    url: server.url,
    apiKey: readFileSync(join(opts.data, 'admin-api-key'), 'utf8').trim(),
  });
  // The deployment's own log is the show here; the worker speaks up only when something is wrong
  // (not for the operations a Ctrl-C cancels).
  const log = pino({ name: 'longshore-worker', level: 'error' });
  print(`Longshore is running at ${server.url}`);
  const worker =
    opts.executor === 'kubernetes' ? await kubernetesWorker(opts, client, log) : await localWorker(opts, client, log);
  defer(() => worker.stop());
  if (signal.aborted) return;

  await client.apply(document);
  print(`Applied ${file}; deploying ${project} to ${environment}:\n`);
  // A fresh release each time, so an edited example file is what gets deployed.
  const release = await client.releases.create(project);
  const deployment = await client.deployments.create({
    project,
    environment,
    release: release.version,
  });
  const state = await client.tasks.follow(deployment.taskId, { onLine: printTaskLine }, signal);
  print(`\nThe demo deployment ${state}.`);
  await worker.afterDeployment(signal);
  if (signal.aborted) return;
  const env = `LONGSHORE_URL=${server.url}${opts.data === '.longshore' ? '' : ` LONGSHORE_DATA=${opts.data}`}`;
  print(
    [
      '',
      `Server: ${server.url}  (admin API key: ${join(opts.data, 'admin-api-key')})`,
      `Portal: ${server.url}/  (sign in as admin with the password: cat ${join(opts.data, 'admin-password')})`,
      ...worker.nextSteps,
      'Deploy again from another terminal:',
      `  ${env} npm run -s longshore -- deploy ${quoted(project)} --to ${quoted(nextEnvironment)} --follow`,
      `  ${env} npm run -s longshore -- tasks`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

async function kubernetesWorker(opts: DemoFlags, client: LongshoreClient, log: Logger): Promise<DemoWorker> {
  const { startKubernetesDemo } = await import('../demo/kubernetesDemo.js');
  const demo = await startKubernetesDemo({ client, dataDir: opts.data, sandboxConfig: opts.sandboxConfig, log, print });
  print(demo.summary);
  const delay = `${Math.round(demo.scaleDownDelayMs / 1000)} s`;
  return {
    stop: () => demo.stop(),
    async afterDeployment(signal) {
      const added = demo.nodes.added().length;
      if (added === 0) return;
      print(
        `The cluster autoscaler removes the ${added} node${added === 1 ? '' : 's'} it added once they stay unneeded for ${delay}...`,
      );
      const gone = await demo.nodes.scaledDown(demo.scaleDownDelayMs + 60_000);
      if (signal.aborted) return;
      print(
        gone
          ? 'The sandbox cluster is back to its always-on nodes.'
          : `Still there: ${demo.nodes.added().join(', ')} (kubectl describe node shows why).`,
      );
    },
    nextSteps: [
      `Sandbox cluster: export KUBECONFIG=${demo.kubeconfigPath}`,
      '  kubectl get nodes,pods -A    (script pods come and go; nodes are added for pods that wait, removed after)',
      '  kubectl get events -A --field-selector reason=TriggeredScaleUp',
    ],
  };
}

async function localWorker(opts: DemoFlags, client: LongshoreClient, log: Logger): Promise<DemoWorker> {
  const { credentialPath, parseWorkerConfig, startWorker } = await import('@longshore/worker');
  const dataDir = join(opts.data, 'demo-worker');
  const token = existsSync(credentialPath(dataDir))
    ? undefined
    : (await client.workers.createRegistrationToken({ pools: ['default'] })).token;
  const worker = await startWorker(
    parseWorkerConfig({
      serverUrl: client.url,
      name: 'demo-worker',
      executor: 'local',
      maxConcurrentOperations: 4,
      dataDir,
      drainDeadlineMs: 5_000,
      ...(token ? { registrationToken: token } : {}),
    }),
    { log },
  );
  return { stop: () => worker.stop(), afterDeployment: async () => undefined, nextSteps: [] };
}

/** The demo deploys the file's first project to its first environment; the next steps suggest its second. */
function deploymentOf(file: string): {
  project: string;
  environment: string;
  nextEnvironment: string;
  document: ApplyDocument;
} {
  const document = readApplyFile(file);
  const project = document.projects?.[0]?.name;
  const environment = document.environments?.[0]?.name;
  if (typeof project !== 'string' || typeof environment !== 'string') {
    throw new LongshoreError(
      'VALIDATION_FAILED',
      `${file} has no project or no environment: the demo deploys the file's first project to its first environment`,
    );
  }
  const second = document.environments?.[1]?.name;
  return { project, environment, nextEnvironment: typeof second === 'string' ? second : environment, document };
}

const quoted = (s: string): string => (/^[\w.-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

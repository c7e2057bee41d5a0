import { spawn, spawnSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Operation } from '@longshore/protocol';
import { tempDir } from '../testing/tempDirs.fixture.js';
import { stageWorkspace } from '../workspace.js';
import { BOOTSTRAP_FILE } from './bootstrapScript.js';

/** A shell and the utilities it finds: the bootstrap must work with each. */
export interface ShellVariant {
  name: string;
  /** Why it cannot run here, if it cannot. */
  skip: string | false;
  command: string[];
  path: string;
}

function which(tool: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** A directory with just these tools, so a variant sees no others. */
async function toolDir(tools: Record<string, string>): Promise<string> {
  const dir = tempDir('tools');
  for (const [name, target] of Object.entries(tools)) await symlink(target, join(dir, name));
  return dir;
}

export async function shellVariants(): Promise<ShellVariant[]> {
  const systemPath = process.env.PATH ?? '/usr/bin:/bin';
  const variants: ShellVariant[] = [
    { name: 'dash', skip: which('dash') ? false : 'dash is not installed', command: ['dash'], path: systemPath },
    { name: 'bash', skip: which('bash') ? false : 'bash is not installed', command: ['bash'], path: systemPath },
  ];
  const gawk = which('gawk');
  variants.push({
    name: 'dash with gawk',
    skip: gawk ? false : 'gawk is not installed (apt-get install gawk)',
    command: ['dash'],
    path: gawk ? `${await toolDir({ awk: gawk })}:${systemPath}` : systemPath,
  });
  const busybox = which('busybox');
  let busyboxPath = '';
  if (busybox) {
    const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    busyboxPath = await toolDir(Object.fromEntries(applets.map((a) => [a, busybox])));
  }
  variants.push({
    name: 'busybox (sh, awk and utilities only)',
    skip: busybox ? false : 'busybox is not installed (apt-get install busybox)',
    command: [join(busyboxPath, 'sh')],
    path: busyboxPath,
  });
  return variants;
}

export const dash: ShellVariant = {
  name: 'dash',
  skip: false,
  command: ['sh'],
  path: process.env.PATH ?? '/usr/bin:/bin',
};

export interface BootstrapRun {
  /** Raw output lines of the bootstrap. */
  lines: string[];
  code: number | null;
  stderr: string;
  workDir: string;
  workspaceDir: string;
}

export interface RunOptions {
  /** Called with each chunk of output as it arrives. */
  onOutput?: (chunk: string, pid: number) => void;
  /** Prepares the directories before the bootstrap starts. */
  prepare?: (dirs: { workspaceDir: string; workDir: string }) => Promise<void>;
}

/** Stages the operation's workspace and runs the bootstrap in it, as an executor would. */
export async function runBootstrap(
  variant: ShellVariant,
  operation: Operation,
  options: RunOptions = {},
): Promise<BootstrapRun> {
  const root = tempDir('bootstrap');
  const workspaceDir = join(root, 'workspace');
  const workDir = join(root, 'work');
  await mkdir(workspaceDir);
  await mkdir(workDir);
  for (const [name, content] of Object.entries(
    stageWorkspace(operation, { workerName: 'test-worker', serverUrl: 'http://server.test' }),
  )) {
    await writeFile(join(workspaceDir, name), content);
  }
  await options.prepare?.({ workspaceDir, workDir });
  const [command, ...args] = variant.command;
  const child = spawn(command!, [...args, join(workspaceDir, BOOTSTRAP_FILE), operation.script.syntax, workDir], {
    env: { PATH: variant.path },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    options.onOutput?.(chunk, child.pid!);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const lines = out.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return { lines, code, stderr, workDir, workspaceDir };
}

export interface ParsedRun {
  stdout: string[];
  stderr: string[];
  exit: number | undefined;
  /** Every line's number, in output order. */
  numbers: number[];
}

/** Splits the bootstrap's format (`<n> O|E|X <text>`), failing on anything else. */
export function parseRun(lines: string[]): ParsedRun {
  const parsed: ParsedRun = { stdout: [], stderr: [], exit: undefined, numbers: [] };
  for (const line of lines) {
    const match = /^(\d+) ([OEX])(?: (.*))?$/s.exec(line);
    if (!match) throw new Error(`not a bootstrap line: ${JSON.stringify(line.slice(0, 200))}`);
    parsed.numbers.push(Number(match[1]));
    const text = match[3] ?? '';
    if (match[2] === 'O') parsed.stdout.push(text);
    else if (match[2] === 'E') parsed.stderr.push(text);
    else parsed.exit = Number(text);
  }
  return parsed;
}

/** Quotes a value for a test script. */
export function sq(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

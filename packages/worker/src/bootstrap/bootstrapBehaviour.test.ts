import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { testOperation } from '../testing/operation.fixture.js';
import { tempDir } from '../testing/tempDirs.fixture.js';
import { dash, parseRun, runBootstrap } from './runBootstrap.fixture.js';

const hasBash = spawnSync('sh', ['-c', 'command -v bash']).status === 0;

describe('bootstrap (dash)', () => {
  it('runs bash syntax with bash', { skip: hasBash ? false : 'bash is not installed' }, async () => {
    const body = 'a=(x y z)\nif [[ ${#a[@]} -eq 3 ]]; then echo "three ${a[1]}"; fi\nset_longshore_variable B ok';
    const parsed = parseRun((await runBootstrap(dash, testOperation({ script: { syntax: 'bash', body } }))).lines);
    assert.equal(parsed.stdout[0], 'three y');
    assert.match(parsed.stdout[1]!, /^##longshore\[setVariable /);
    assert.equal(parsed.exit, 0);
  });

  it('fails a bash script with one clear line and 127 where bash is missing', async () => {
    const tools = tempDir('nobash');
    for (const tool of ['sh', 'awk', 'od', 'mkfifo', 'cat', 'dirname', 'rm', 'mkdir', 'chmod', 'sleep']) {
      const path = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      await symlink(path, join(tools, tool));
    }
    const run = await runBootstrap(
      { ...dash, path: tools },
      testOperation({ script: { syntax: 'bash', body: 'echo never' } }),
    );
    const parsed = parseRun(run.lines);
    assert.equal(parsed.stdout.length, 0);
    assert.equal(parsed.stderr.length, 1);
    assert.match(parsed.stderr[0]!, /bash syntax, but this image has no bash; install it in the execution container/);
    assert.equal(parsed.exit, 127);
  });

  it('forwards quiet output at once, and a burst within a tick', async () => {
    const seen: { text: string; at: number }[] = [];
    const started = Date.now();
    await runBootstrap(
      dash,
      testOperation({ script: { syntax: 'sh', body: 'echo first\nsleep 1.5\nseq 5000\nsleep 1.5' } }),
      {
        onOutput: (chunk) => seen.push({ text: chunk, at: Date.now() - started }),
      },
    );
    const first = seen.find((s) => s.text.includes('1 O first'))!;
    const burstEnd = seen.find((s) => s.text.includes('5001 O 5000'))!;
    assert.ok(first.at < 1000, `the first line took ${first.at} ms`);
    assert.ok(burstEnd.at < 2600, `the burst's last line took ${burstEnd.at} ms`);
  });

  it('joins a line the script writes in pieces across ticks', async () => {
    const body = "printf 'waiting'\nsleep 0.5\nprintf '...'\nsleep 0.5\necho ' done'\nprintf 'partial'\nsleep 0.5";
    const run = await runBootstrap(dash, testOperation({ script: { syntax: 'sh', body } }));
    assert.deepEqual(run.lines, ['1 O waiting... done', '2 O partial', '3 X 0']);
  });

  it('runs the script in the work dir with KUBECONFIG, /dev/null as stdin and no variable in the environment', async () => {
    const operation = testOperation({
      target: {
        id: 't1',
        name: 'cluster',
        type: 'kubernetes-cluster',
        kubernetes: { apiUrl: 'https://k8s.test', namespace: 'apps', token: 'cluster-token' },
      },
      variables: [{ name: 'Secret', value: 'hunter2', sensitive: true }],
      script: { syntax: 'sh', body: 'pwd\necho "$KUBECONFIG"\ncat\nenv | grep -c -e hunter2 -e cluster-token' },
    });
    const run = await runBootstrap(dash, operation);
    const parsed = parseRun(run.lines);
    assert.deepEqual(parsed.stdout, [run.workDir, join(run.workspaceDir, 'kubeconfig'), '0']);
    // Nothing written into the workspace, which is a read-only Secret mount in Kubernetes.
    assert.deepEqual((await readdir(run.workspaceDir)).sort(), [
      'bootstrap.sh',
      'functions.sh',
      'kubeconfig',
      'masks',
      'script',
      'sensitive.sh',
      'variables.sh',
    ]);
    assert.deepEqual(await readdir(run.workDir), []);
  });

  it('forwards TERM to the script and still ends with the marker', async () => {
    const body = "trap 'echo stopping; exit 143' TERM\necho ready\nsleep 30 >/dev/null 2>&1 &\nwait";
    let signalled = false;
    const run = await runBootstrap(dash, testOperation({ script: { syntax: 'sh', body } }), {
      onOutput: (chunk, pid) => {
        if (!signalled && chunk.includes('ready')) {
          signalled = true;
          process.kill(pid, 'SIGTERM');
        }
      },
    });
    assert.deepEqual(run.lines, ['1 O ready', '2 O stopping', '3 X 143']);
  });

  it('reports a script killed by a signal with the shell’s 128+n code', async () => {
    const run = await runBootstrap(dash, testOperation({ script: { syntax: 'sh', body: 'echo bye\nkill -9 $$' } }));
    assert.deepEqual(run.lines, ['1 O bye', '2 X 137']);
  });
});

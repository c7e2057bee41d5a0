import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../support/agentClient.js';
import { ClusterLab } from '../support/clusterLab.js';

const POSTGRES_INSTALLED = existsSync('/usr/lib/postgresql');
const TARGETS = 20;
const LINES = 50;
const NODES = ['node-a', 'node-b'];

let lab: ClusterLab;
before(async () => {
  if (!POSTGRES_INSTALLED) return;
  lab = new ClusterLab();
  for (const node of NODES) await lab.startNode(node);
  // Four workers of five slots, two on each node: all 20 operations run at once, spread over both.
  for (const [i, node] of [NODES[0]!, NODES[0]!, NODES[1]!, NODES[1]!].entries())
    await lab.startWorker(`ha-worker-${i + 1}`, node, 5);
});
after(() => lab?.close());

const nodesSeenBy = async (node: string) => JSON.parse((await lab.cli(node, ['server', 'nodes', '-o', 'json'])).output);

test(
  'two server nodes on PostgreSQL: SIGKILL the node that owns a deployment with 20 operations in flight; the other takes it over, every operation runs once, every log line is there once and in order, and the killed node rejoins',
  { skip: !POSTGRES_INSTALLED && 'PostgreSQL is not installed (apt-get install postgresql)', timeout: 180_000 },
  async () => {
    const runs = join(lab.dir, 'runs');
    mkdirSync(runs);
    const targets = Array.from({ length: TARGETS }, (_, i) => ({
      name: `t${String(i + 1).padStart(2, '0')}`,
      type: 'generic',
      environments: ['Production'],
      tags: ['ha'],
    }));
    const project = {
      name: 'Resilient',
      process: {
        steps: [
          {
            name: 'Roll',
            runOn: { targetTags: ['ha'] },
            script: {
              // Half way, each waits for the test to have seen the takeover: on a slow machine too,
              // no operation ends before its node is killed and another holds the task.
              body: `echo run >> ${runs}/#{Longshore.Target.Name}
i=1; while [ $i -le ${LINES} ]; do
  echo "#{Longshore.Target.Name} line $i"; i=$((i+1)); sleep 0.2
  if [ $i -eq ${LINES / 2} ]; then until [ -e ${runs}/go-on ]; do sleep 0.1; done; fi
done`,
            },
          },
          { name: 'Finish', script: { body: 'echo "all targets rolled"' } },
        ],
      },
    };
    const applied = await lab.api(NODES[0]!, 'POST', '/api/apply', {
      environments: [{ name: 'Production' }],
      targets,
      projects: [project],
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    const deployed = await lab.api(NODES[0]!, 'POST', '/api/deployments', {
      project: 'Resilient',
      environment: 'Production',
    });
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
    const taskId = deployed.body.taskId as string;

    // Every operation running and printing: 20 in flight.
    await waitFor(
      'all 20 operations to print',
      async () => {
        const lines = await lab.taskLog(NODES[1]!, taskId);
        return (
          new Set(lines.filter((l) => / line \d+$/.test(l.text)).map((l) => l.text.split(' ')[0])).size === TARGETS
        );
      },
      60_000,
      250,
    );
    const owner = (await nodesSeenBy(NODES[1]!)).find((n: any) => n.tasks.some((t: any) => t.id === taskId));
    assert.ok(owner, 'one node holds the task');
    const survivor = NODES.find((n) => n !== owner.name)!;
    const killedAt = Date.now();
    assert.equal(await lab.nodes.get(owner.name)!.process.kill('SIGKILL'), 'SIGKILL');

    const takenOver = await waitFor(
      'the surviving node to take the task over',
      async () => {
        const list = await nodesSeenBy(survivor);
        return list.find((n: any) => n.name === survivor).tasks.some((t: any) => t.id === taskId) && list;
      },
      30_000,
      200,
    );
    assert.equal(takenOver.find((n: any) => n.name === owner.name).alive, false, 'the killed node shows as gone');
    writeFileSync(join(runs, 'go-on'), '');

    const task = await waitFor(
      'the deployment to end',
      async () => {
        const t = (await lab.api(survivor, 'GET', `/api/tasks/${taskId}`)).body;
        return !['queued', 'running', 'cancelling'].includes(t.state) && t;
      },
      90_000,
      250,
    );
    assert.equal(task.state, 'succeeded', JSON.stringify(task));
    console.log(`the deployment finished ${Date.now() - killedAt} ms after its node was killed`);

    for (const target of targets)
      assert.equal(readFileSync(join(runs, target.name), 'utf8'), 'run\n', `${target.name} ran exactly once`);
    const lines = await lab.taskLog(survivor, taskId);
    for (const target of targets) {
      const own = lines.filter((l) => l.text.startsWith(`${target.name} line `));
      assert.deepEqual(
        own.map((l) => l.text),
        Array.from({ length: LINES }, (_, i) => `${target.name} line ${i + 1}`),
        `every line of ${target.name} once, in order`,
      );
      const ofOperation = lines.filter((l) => l.operationId === own[0].operationId);
      assert.deepEqual(
        ofOperation.map((l) => l.seq),
        ofOperation.map((_, i) => i + 1),
        `${target.name}: seq contiguous from 1`,
      );
    }
    assert.ok(
      lines.some((l) => l.text === 'all targets rolled'),
      'the step after the takeover ran',
    );

    await lab.startNode(owner.name);
    const rejoined = await waitFor(
      'the killed node to rejoin',
      async () => {
        const list = await nodesSeenBy(survivor);
        return list.length === NODES.length && list.every((n: any) => n.alive) && list;
      },
      20_000,
      200,
    );
    assert.deepEqual(rejoined.map((n: any) => n.name).sort(), NODES, 'its earlier run is no longer listed');
    const table = await lab.cli(owner.name, ['server', 'nodes']);
    for (const node of NODES) assert.match(table.output, new RegExp(`^${node}\\s+alive\\s`, 'm'));
  },
);

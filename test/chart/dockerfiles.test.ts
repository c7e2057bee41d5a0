// The images the chart runs cannot be built here (no container runtime), so what would break
// them or the chart's assumptions about them is checked from the Dockerfiles' text.
// Run: node --conditions=source --import tsx --test test/chart/dockerfiles.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { CHART, SERVER_CHART, readYaml } from './helmChart.js';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const worker = read('docker/worker/Dockerfile');
const tools = read('docker/worker-tools/Dockerfile');
const server = read('docker/server/Dockerfile');
const serverValues = readYaml<{ server: { podSecurityContext: { runAsUser: number; runAsGroup: number } } }>(
  `${SERVER_CHART}/values.yaml`,
);
const values = readYaml<{ worker: { podSecurityContext: { runAsUser: number; runAsGroup: number } } }>(
  `${CHART}/values.yaml`,
);

/** The instructions of the last stage: what the image is. */
function finalStage(dockerfile: string): string {
  return dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
}

describe('docker/worker/Dockerfile', () => {
  test('runs on Node 24 LTS as the uid the chart runs it with', () => {
    const stage = finalStage(worker);
    assert.match(stage, /^\nFROM node:24-bookworm-slim\n/);
    const { runAsUser, runAsGroup } = values.worker.podSecurityContext;
    assert.match(stage, new RegExp(`^USER ${runAsUser}:${runAsGroup}$`, 'm'));
  });

  test("its entrypoint is the longshore CLI, also on PATH for the script pods' package fetcher", () => {
    // The chart passes `args` only; the fetcher init container runs `longshore fetch-packages`.
    assert.match(finalStage(worker), /^ENTRYPOINT \["longshore"\]$/m);
    assert.match(worker, /ln -s \/opt\/longshore\/packages\/cli\/bin\/longshore\.mjs \/usr\/local\/bin\/longshore/);
  });

  test('copies the manifest of every npm workspace before `npm ci`', () => {
    const { workspaces } = JSON.parse(read('package.json')) as { workspaces: string[] };
    const beforeInstall = worker.slice(0, worker.indexOf('RUN npm ci'));
    for (const ws of workspaces) assert.match(beforeInstall, new RegExp(`^COPY ${ws}/package\\.json ${ws}/$`, 'm'), ws);
  });
});

describe('docker/worker-tools/Dockerfile', () => {
  test('pins kubectl and helm to exact versions, changeable with --build-arg', () => {
    assert.match(tools, /^ARG KUBECTL_VERSION=v\d+\.\d+\.\d+$/m);
    assert.match(tools, /^ARG HELM_VERSION=v\d+\.\d+\.\d+$/m);
    assert.match(tools, /sha256sum -c/, 'downloads are verified');
  });

  test('has the tools scripts expect, no Docker, and runs as a non-root user', () => {
    const stage = finalStage(tools);
    for (const pkg of ['bash', 'curl', 'git', 'jq'])
      assert.match(stage, new RegExp(`apt-get install [^\\n]*\\b${pkg}\\b`), pkg);
    assert.match(stage, /COPY --from=download \/download\/kubectl \/download\/helm \/usr\/local\/bin\//);
    assert.doesNotMatch(tools, /docker\.io|docker-ce|containerd/);
    assert.match(stage, /^USER 10001:10001$/m);
  });
});

describe('docker/server/Dockerfile', () => {
  test('runs on Node 24 LTS as the uid the server chart runs it with, the CLI as its entrypoint', () => {
    const stage = finalStage(server);
    assert.match(stage, /^\nFROM node:24-bookworm-slim\n/);
    const { runAsUser, runAsGroup } = serverValues.server.podSecurityContext;
    assert.match(stage, new RegExp(`^USER ${runAsUser}:${runAsGroup}$`, 'm'));
    // charts/longshore-server passes `server ...` as args.
    assert.match(stage, /^ENTRYPOINT \["longshore"\]$/m);
  });

  test('copies the manifest of every npm workspace before `npm ci`, and builds the portal it serves', () => {
    const { workspaces } = JSON.parse(read('package.json')) as { workspaces: string[] };
    const beforeInstall = server.slice(0, server.indexOf('RUN npm ci'));
    for (const ws of workspaces) assert.match(beforeInstall, new RegExp(`^COPY ${ws}/package\\.json ${ws}/$`, 'm'), ws);
    assert.match(server, /npm run build --workspace packages\/portal/);
    const ignore = read('docker/server/Dockerfile.dockerignore');
    for (const file of ['index.html', 'vite.config.ts'])
      assert.match(ignore, new RegExp(`^!packages/portal/${file.replace('.', '\\.')}$`, 'm'));
  });
});

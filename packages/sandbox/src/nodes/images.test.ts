import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  containerArgv,
  containerWorkingDir,
  defaultImageTable,
  expandVars,
  imageRepository,
  lookupImage,
  qualifiedImage,
  withConfiguredImages,
} from './images.js';

test('image names normalise to repositories; unknown images miss', () => {
  assert.equal(imageRepository('docker.io/library/busybox:1.36@sha256:abc'), 'busybox');
  assert.equal(imageRepository('longshore/worker:0.1.0'), 'longshore/worker');
  assert.equal(imageRepository('localhost:5000/x/y:1'), 'localhost:5000/x/y');
  assert.equal(qualifiedImage('nope'), 'docker.io/library/nope:latest');
  const table = defaultImageTable('/repo/cli/main.js');
  assert.ok(lookupImage(table, 'alpine:3.20'));
  assert.equal(lookupImage(table, 'httpd'), undefined);
});

test('command replaces the entrypoint, args the cmd; $(VAR) expands and $$ escapes', () => {
  const env = new Map([['A', 'x']]);
  assert.deepEqual(containerArgv({ entrypoint: ['node', 'w.js'], cmd: ['run'] }, undefined, undefined, env), [
    'node',
    'w.js',
    'run',
  ]);
  assert.deepEqual(containerArgv({ entrypoint: ['node', 'w.js'], cmd: ['run'] }, undefined, ['other'], env), [
    'node',
    'w.js',
    'other',
  ]);
  assert.deepEqual(containerArgv({ entrypoint: [], cmd: ['sh'] }, ['echo'], ['$(A)', '$(B)'], env), [
    'echo',
    'x',
    '$(B)',
  ]);
  assert.equal(expandVars('$$(A)', env), '$(A)');
});

test("a program of the image's PATH runs as its host command: `longshore` in the worker image is this repository's CLI", () => {
  const table = defaultImageTable('/repo/cli/main.js');
  const worker = lookupImage(table, 'longshore/worker:0.1.0')!;
  const env = new Map<string, string>();
  assert.deepEqual(containerArgv(worker, ['longshore', 'fetch-packages', '--into', '/w'], undefined, env), [
    process.execPath,
    '/opt/longshore/main.js',
    'fetch-packages',
    '--into',
    '/w',
  ]);
  assert.deepEqual(
    containerArgv(worker, ['sh', '-c', 'longshore'], undefined, env),
    ['sh', '-c', 'longshore'],
    'only the command itself is looked up',
  );
  assert.deepEqual(containerArgv(worker, ['toString'], undefined, env), ['toString']);
  assert.deepEqual(
    containerArgv(lookupImage(table, 'busybox')!, ['longshore'], undefined, env),
    ['longshore'],
    'other images do not have it',
  );
});

test('the worker image carries its files: the CLI and node_modules bound read-only at a fixed path, so a pod volume on /tmp cannot hide them', () => {
  const entry = fileURLToPath(new URL('../../../cli/dist/main.js', import.meta.url));
  const worker = defaultImageTable(entry)['longshore/worker']!;
  const root = fileURLToPath(new URL('../../../../', import.meta.url)).replace(/\/$/, '');
  assert.deepEqual(worker.files, [{ source: root, target: '/opt/longshore', readOnly: true }]);
  assert.deepEqual(worker.entrypoint, [process.execPath, '/opt/longshore/packages/cli/dist/main.js']);
  assert.deepEqual(worker.programs?.longshore, worker.entrypoint);
});

test('the server image runs the same CLI as the worker image, so charts/longshore-server runs in the sandbox', () => {
  const table = defaultImageTable('/repo/packages/cli/dist/main.js');
  const server = lookupImage(table, 'longshore/server:0.1.0')!;
  assert.deepEqual(server, table['longshore/worker']);
  assert.deepEqual(containerArgv(server, undefined, ['server', '--port', '8080'], new Map()), [
    process.execPath,
    server.entrypoint[1],
    'server',
    '--port',
    '8080',
  ]);
});

test("a container starts in its workingDir, else its image's WORKDIR, else /", () => {
  const table = defaultImageTable('/repo/cli/main.js');
  assert.equal(containerWorkingDir(lookupImage(table, 'busybox')!, undefined), '/');
  assert.equal(containerWorkingDir(lookupImage(table, 'longshore/worker')!, undefined), '/opt/longshore');
  assert.equal(containerWorkingDir(lookupImage(table, 'longshore/worker')!, '/work'), '/work');
});

test('a configured image is built on its `from` with its own ENV over the base, and one tag of a repository has its own entry', () => {
  const table = withConfiguredImages(defaultImageTable('/repo/packages/cli/dist/main.js', '/bin-view'), {
    'longshore/worker:0.2.0': { from: 'longshore/worker', env: { LONGSHORE_VERSION: '0.2.0' } },
    'longshore/worker:0.3.0': { from: 'longshore/worker', entrypoint: ['sh', '-c', 'exit 1'] },
  });
  const base = lookupImage(table, 'longshore/worker:0.1.0')!;
  const next = lookupImage(table, 'docker.io/longshore/worker:0.2.0')!;
  assert.deepEqual(next.entrypoint, base.entrypoint);
  assert.deepEqual(next.files, base.files);
  assert.deepEqual(next.env, { PATH: '/bin-view', LONGSHORE_VERSION: '0.2.0' });
  assert.equal(base.env?.LONGSHORE_VERSION, undefined);
  assert.deepEqual(lookupImage(table, 'longshore/worker:0.3.0')!.entrypoint, ['sh', '-c', 'exit 1']);
  assert.throws(
    () => withConfiguredImages(table, { x: { from: 'nosuch/image' } }),
    /cluster\.images\["x"\]\.from: no image nosuch\/image to build on/,
  );
});

test('python runs the host python3 as python; nginx runs the stand-in with nginx arguments ignored', async () => {
  const table = defaultImageTable('/x/cli/dist/main.js');
  const env = new Map<string, string>();
  const python = lookupImage(table, 'python:3.12')!;
  assert.deepEqual(containerArgv(python, undefined, undefined, env), ['python3']);
  assert.deepEqual(containerArgv(python, ['python', '-u', 'x.py'], undefined, env), ['python3', '-u', 'x.py']);
  const nginx = containerArgv(lookupImage(table, 'nginx:1.27')!, undefined, undefined, env);
  assert.deepEqual([nginx[0], nginx[1], ...nginx.slice(3)], [process.execPath, '-e', '--', '-g', 'daemon off;']);
  // The stand-in itself, on a port of its own: it answers as a fresh nginx does.
  const { spawn } = await import('node:child_process');
  const script = nginx[2]!.replace('.listen(80,', '.listen(+process.env.PORT,');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ['-e', script], {
    env: { PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise((r) => child.stdout.once('data', r));
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.headers.get('server'), 'nginx');
    assert.match(await page.text(), /<h1>Welcome to nginx!<\/h1>/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
  } finally {
    child.kill();
  }
});

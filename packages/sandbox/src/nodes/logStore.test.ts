import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogStore, type LogSink } from './logStore.js';

function collect(): { sink: LogSink; text: () => string; writes: () => number } {
  let text = '';
  let writes = 0;
  return {
    sink: {
      write: (chunk) => {
        text += chunk;
        writes++;
        return true;
      },
      end: () => {},
      onClose: () => {},
    },
    text: () => text,
    writes: () => writes,
  };
}

test('past its cap a log keeps the newest lines, in order, however many came before', () => {
  const store = new LogStore(1000);
  const run = store.start('ns', 'pod', 'c');
  for (let i = 1; i <= 20_000; i++) run.append('stdout', `line ${i}\n`);
  const out = collect();
  store.read('ns', 'pod', 'c', {}, out.sink);
  const lines = out.text().trim().split('\n');
  assert.equal(lines.at(-1), 'line 20000');
  assert.ok(out.text().length <= 1000, `bounded: ${out.text().length} bytes`);
  assert.deepEqual(
    lines.map((l) => Number(l.split(' ')[1])),
    Array.from({ length: lines.length }, (_, i) => 20_001 - lines.length + i),
  );
});

test('a follower gets each chunk of output as one write, timestamps only going forward', () => {
  const store = new LogStore();
  const run = store.start('ns', 'pod', 'c');
  const out = collect();
  store.read('ns', 'pod', 'c', { follow: true, timestamps: true }, out.sink);
  run.append('stdout', Array.from({ length: 500 }, (_, i) => `l${i}\n`).join(''));
  assert.equal(out.writes(), 1);
  const stamps = out
    .text()
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[0]!);
  assert.equal(stamps.length, 500);
  assert.ok(
    stamps.every((s, i) => i === 0 || s > stamps[i - 1]!),
    'strictly increasing',
  );
});

test('a tap gets chunks as written from the moment it taps (a prompt without a newline too) and the end', () => {
  const store = new LogStore();
  const run = store.start('ns', 'p', 'c');
  run.append('stdout', 'before\n');
  const got: [string, string | undefined][] = [];
  const untap = store.tap('ns', 'p', 'c', (stream, chunk) => got.push([stream, chunk]));
  assert.ok(untap);
  run.append('stdout', '/ # ');
  run.append('stderr', 'oops\n');
  run.close();
  assert.deepEqual(got, [
    ['stdout', '/ # '],
    ['stderr', 'oops\n'],
    ['', undefined],
  ]);
  assert.equal(
    store.tap('ns', 'p', 'c', () => undefined),
    undefined,
    'an ended run has nothing to tap',
  );
});

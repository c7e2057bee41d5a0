import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MASK, parseServiceMessage } from '@longshore/protocol';
import { testOperation } from '../testing/operation.fixture.js';
import { parseRun, runBootstrap, shellVariants, sq } from './runBootstrap.fixture.js';

/** Values that break naive quoting, encoding or line handling. */
const TRICKY = [
  "it's",
  'say "hi"',
  'line one\nline two',
  '$HOME ${PATH} $(id)',
  '`date`',
  'ünïcödé ✓ 日本語 🚀',
  'back\\slash \\n',
  '  padded  ',
  '*',
  '-n',
  '',
  'a;b|c&d>e<f',
];

for (const variant of await shellVariants()) {
  describe(`bootstrap under ${variant.name}`, { skip: variant.skip }, () => {
    it('numbers stdout and stderr lines in one sequence and ends with the exit code', async () => {
      const run = await runBootstrap(
        variant,
        testOperation({ script: { syntax: 'sh', body: 'echo one\necho two >&2\necho three\nexit 3' } }),
      );
      const parsed = parseRun(run.lines);
      assert.deepEqual(parsed.stdout, ['one', 'three']);
      assert.deepEqual(parsed.stderr, ['two']);
      assert.equal(parsed.exit, 3);
      assert.deepEqual(parsed.numbers, [1, 2, 3, 4]);
      assert.match(run.lines.at(-1)!, /^4 X 3$/);
      assert.equal(run.code, 3);
    });

    it('emits a last line that has no newline, and empty lines', async () => {
      const run = await runBootstrap(
        variant,
        testOperation({ script: { syntax: 'sh', body: "echo\nprintf 'no newline'" } }),
      );
      assert.deepEqual(run.lines, ['1 O ', '2 O no newline', '3 X 0']);
    });

    it('masks sensitive values literally, longest first, a multi-line secret line by line', async () => {
      const run = await runBootstrap(
        variant,
        testOperation({
          variables: [
            { name: 'Pattern', value: 'a.b*c', sensitive: true },
            { name: 'Short', value: 'abc', sensitive: true },
            { name: 'Long', value: 'abcdef', sensitive: true },
            { name: 'Key', value: 'first-line\nsecond-line', sensitive: true },
            { name: 'Plain', value: 'visible', sensitive: false },
          ],
          script: {
            syntax: 'sh',
            body: 'echo "xa.b*cx aXbbc"\necho "[abcdef] [abc]" >&2\nget_longshore_variable Key\necho visible',
          },
        }),
      );
      const parsed = parseRun(run.lines);
      assert.deepEqual(parsed.stdout, [`x${MASK}x aXbbc`, MASK, MASK, 'visible']);
      assert.deepEqual(parsed.stderr, [`[${MASK}] [${MASK}]`]);
    });

    it('gives the script every variable exactly, and fails for unknown names', async () => {
      const variables = TRICKY.map((value, i) => ({ name: `V.${i} it's`, value, sensitive: i % 2 === 1 }));
      const body = [
        ...variables.map((v, i) => `get_longshore_variable ${sq(v.name)} > out${i}`),
        'get_longshore_variable Longshore.Worker.Name > worker',
        'get_longshore_variable Nope > nope; echo "unknown: $?"',
      ].join('\n');
      const run = await runBootstrap(variant, testOperation({ variables, script: { syntax: 'sh', body } }));
      for (const [i, v] of variables.entries()) {
        assert.equal(await readFile(join(run.workDir, `out${i}`), 'utf8'), `${v.value}\n`, `variable ${i}`);
      }
      assert.equal(await readFile(join(run.workDir, 'worker'), 'utf8'), 'test-worker\n');
      assert.ok(parseRun(run.lines).stdout.includes('unknown: 1'));
    });

    it('encodes output variables in base64 that the protocol parser decodes to the same text', async () => {
      const names = ['Out', 'Ünï name', 'with space'];
      const body = [
        ...TRICKY.map((value, i) => `set_longshore_variable ${sq(names[i % names.length]!)} ${sq(value)}`),
        "set_longshore_variable Token 'tok-3n' sensitive",
        'echo tok-3n; echo "token tok-3n" >&2',
      ].join('\n');
      const run = await runBootstrap(variant, testOperation({ script: { syntax: 'sh', body } }));
      const parsed = parseRun(run.lines);
      const messages = parsed.stdout.filter((l) => l.startsWith('##longshore[')).map((l) => parseServiceMessage(l));
      assert.deepEqual(messages, [
        ...TRICKY.map((value, i) => ({
          ok: true,
          message: { kind: 'setVariable', name: names[i % names.length], value, sensitive: false },
        })),
        { ok: true, message: { kind: 'setVariable', name: 'Token', value: 'tok-3n', sensitive: true } },
      ]);
      // A sensitive output variable is masked from then on, in both streams.
      assert.equal(parsed.stdout.at(-1), MASK);
      assert.deepEqual(parsed.stderr, [`token ${MASK}`]);
    });

    it('reports progress and warnings, and rejects a bad percentage', async () => {
      const body =
        'longshore_progress 40 \'half way\'\nlongshore_warning careful now\nlongshore_progress 140 x || echo "rejected $?"';
      const parsed = parseRun((await runBootstrap(variant, testOperation({ script: { syntax: 'sh', body } }))).lines);
      assert.deepEqual(parseServiceMessage(parsed.stdout[0]!), {
        ok: true,
        message: { kind: 'progress', percentage: 40, message: 'half way' },
      });
      assert.deepEqual(parseServiceMessage(parsed.stdout[1]!), {
        ok: true,
        message: { kind: 'warning', message: 'careful now' },
      });
      assert.equal(parsed.stdout[2], 'rejected 2');
      assert.match(parsed.stderr[0]!, /usage: longshore_progress/);
    });

    it('keeps long lines whole up to 64 KiB and splits longer ones without losing a byte', async () => {
      const body = [
        'awk \'BEGIN { s = "x"; while (length(s) < 1000) s = s s; print "a" substr(s, 1, 999) "z" }\'',
        's=$(head -c 70000 /dev/zero | tr \'\\0\' y); echo "$s"; echo "$s" >&2',
      ].join('\n');
      const parsed = parseRun((await runBootstrap(variant, testOperation({ script: { syntax: 'sh', body } }))).lines);
      assert.equal(parsed.stdout[0], `a${'x'.repeat(999)}z`);
      assert.deepEqual(
        parsed.stdout.slice(1).map((l) => l.length),
        [65536, 70000 - 65536],
      );
      assert.equal(parsed.stdout.slice(1).join(''), 'y'.repeat(70000));
      assert.equal(parsed.stderr.join(''), 'y'.repeat(70000));
    });

    it('never mixes the two streams within a line, however busy both are', async () => {
      const generator = (tag: string) =>
        `awk 'BEGIN { s = "x"; while (length(s) < 900) s = s s; for (i = 0; i < 5000; i++) print "${tag}" i "-" substr(s, 1, i % 900) }'`;
      const body = `${generator('o')} &\n${generator('e')} >&2 &\nwait`;
      const parsed = parseRun((await runBootstrap(variant, testOperation({ script: { syntax: 'sh', body } }))).lines);
      const expected = (tag: string) => Array.from({ length: 5000 }, (_, i) => `${tag}${i}-${'x'.repeat(i % 900)}`);
      assert.deepEqual(parsed.stdout, expected('o'));
      assert.deepEqual(parsed.stderr, expected('e'));
      assert.deepEqual(
        parsed.numbers,
        Array.from({ length: 10001 }, (_, i) => i + 1),
      );
    });
  });
}

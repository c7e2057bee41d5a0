import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MASK, formatServiceMessage, type OutputVariable } from '@longshore/protocol';
import fc from 'fast-check';
import { BootstrapOutput, LineSplitter, MAX_LINE_LENGTH, type BootstrapOutputHandler } from './bootstrapOutput.js';

type Call =
  | { line: [string, string, number | undefined, string | undefined] }
  | { progress: [number, string] }
  | { variable: OutputVariable }
  | { end: number };

function recorder(): { calls: Call[]; handler: BootstrapOutputHandler } {
  const calls: Call[] = [];
  return {
    calls,
    handler: {
      line: (stream, text, _ts, source, level) => calls.push({ line: [stream, text, source, level] }),
      progress: (percentage, message) => calls.push({ progress: [percentage, message] }),
      outputVariable: (variable) => calls.push({ variable }),
      end: (exitCode) => calls.push({ end: exitCode }),
    },
  };
}

function parse(text: string, secrets: string[] = [], lastSource?: number): Call[] {
  const { calls, handler } = recorder();
  const output = new BootstrapOutput(handler, { secrets, lastSource });
  output.write(Buffer.from(text));
  output.end();
  return calls;
}

describe('BootstrapOutput', () => {
  it('turns numbered lines into stdout and stderr lines and the marker into the end', () => {
    assert.deepEqual(parse('1 O hello\n2 E oops\n3 O \n4 O  two  spaces \n5 X 3\n'), [
      { line: ['stdout', 'hello', 1, undefined] },
      { line: ['stderr', 'oops', 2, undefined] },
      { line: ['stdout', '', 3, undefined] },
      { line: ['stdout', ' two  spaces ', 4, undefined] },
      { end: 3 },
    ]);
  });

  it('keeps whatever does not match the format as a system line', () => {
    assert.deepEqual(parse('sh: 1: awk: not found\n7O x\n8 Q x\n9 X oops\n\n1 Ox\n'), [
      { line: ['system', 'sh: 1: awk: not found', undefined, undefined] },
      { line: ['system', '7O x', undefined, undefined] },
      { line: ['system', '8 Q x', undefined, undefined] },
      { line: ['system', '9 X oops', undefined, undefined] },
      { line: ['system', '', undefined, undefined] },
      { line: ['system', '1 Ox', undefined, undefined] },
    ]);
  });

  it('drops lines it already had and reports missing ones', () => {
    assert.deepEqual(parse('1 O a\n1 O a\n2 O b\n6 O f\n4 O d\n8 E h\n9 X 0\n'), [
      { line: ['stdout', 'a', 1, undefined] },
      { line: ['stdout', 'b', 2, undefined] },
      { line: ['system', '3 lines are missing from the script output (lines 3–5)', undefined, 'warning'] },
      { line: ['stdout', 'f', 6, undefined] },
      { line: ['system', '1 line is missing from the script output (line 7)', undefined, 'warning'] },
      { line: ['stderr', 'h', 8, undefined] },
      { end: 0 },
    ]);
  });

  it('continues after the last line a resumed reader had', () => {
    const { calls, handler } = recorder();
    const output = new BootstrapOutput(handler, { secrets: [], lastSource: 2 });
    output.write(Buffer.from('1 O a\n2 O b\n3 O c\n'));
    assert.deepEqual(calls, [{ line: ['stdout', 'c', 3, undefined] }]);
    assert.equal(output.lastSource, 3);
  });

  it('masks secrets in every kind of line, again', () => {
    assert.deepEqual(parse('1 O pw=hunter2\n2 E x hunter2 y\nhunter2 leaked\n', ['hunter2']), [
      { line: ['stdout', `pw=${MASK}`, 1, undefined] },
      { line: ['stderr', `x ${MASK} y`, 2, undefined] },
      { line: ['system', `${MASK} leaked`, undefined, undefined] },
    ]);
  });

  it('turns service messages into output variables, progress and warnings', () => {
    const sm = formatServiceMessage;
    const text = [
      `1 O ${sm({ kind: 'setVariable', name: 'Url', value: 'https://x', sensitive: false })}`,
      `2 O ${sm({ kind: 'setVariable', name: 'Token', value: 's3cr3t', sensitive: true })}`,
      '3 O token is s3cr3t',
      `4 E ${sm({ kind: 'progress', percentage: 50, message: 'half' })}`,
      `5 O ${sm({ kind: 'warning', message: 'disk almost full' })}`,
      '6 O ##longshore[nonsense]',
      "7 O ##longshore[progress percentage='101']",
      '8 O ## not a service message',
      '',
    ].join('\n');
    assert.deepEqual(parse(text), [
      { variable: { name: 'Url', value: 'https://x', sensitive: false } },
      { line: ['system', "Output variable 'Url' set", 1, undefined] },
      { variable: { name: 'Token', value: 's3cr3t', sensitive: true } },
      { line: ['system', "Output variable 'Token' set (sensitive)", 2, undefined] },
      { line: ['stdout', `token is ${MASK}`, 3, undefined] },
      { progress: [50, 'half'] },
      { line: ['stdout', 'disk almost full', 5, 'warning'] },
      { line: ['stdout', '##longshore[nonsense]', 6, undefined] },
      {
        line: [
          'system',
          "The line above is not a valid service message: unknown service message 'nonsense'",
          undefined,
          'warning',
        ],
      },
      { line: ['stdout', "##longshore[progress percentage='101']", 7, undefined] },
      {
        line: [
          'system',
          "The line above is not a valid service message: progress needs percentage='0..100'",
          undefined,
          'warning',
        ],
      },
      { line: ['stdout', '## not a service message', 8, undefined] },
    ]);
  });

  it('masks secrets inside the texts of service messages', () => {
    const sm = formatServiceMessage;
    const calls = parse(
      `1 O ${sm({ kind: 'setVariable', name: 'Conn', value: 'user:pw@db', sensitive: false })}\n2 O ${sm({ kind: 'warning', message: 'pw is weak' })}\n`,
      ['pw'],
    );
    assert.deepEqual(calls[0], { variable: { name: 'Conn', value: `user:${MASK}@db`, sensitive: false } });
    assert.deepEqual(calls[2], { line: ['stdout', `${MASK} is weak`, 2, 'warning'] });
  });

  it('splits a line longer than the protocol allows', () => {
    const long = 'x'.repeat(MAX_LINE_LENGTH * 2 + 5);
    const calls = parse(`1 O ${long}\n`);
    assert.deepEqual(
      calls.map((c) => ('line' in c ? [c.line[1].length, c.line[2]] : c)),
      [
        [MAX_LINE_LENGTH, 1],
        [MAX_LINE_LENGTH, 1],
        [5, 1],
      ],
    );
  });

  it('gives the same records however the bytes are chunked', () => {
    const sm = formatServiceMessage;
    const line = fc.oneof(
      fc
        .tuple(fc.nat({ max: 30 }), fc.constantFrom('O', 'E'), fc.string({ unit: 'grapheme' }))
        .map(([n, t, s]) => `${n} ${t} ${s.replaceAll('\n', ' ')}`),
      fc
        .tuple(fc.nat({ max: 30 }), fc.string({ unit: 'grapheme' }))
        .map(([n, v]) => `${n} O ${sm({ kind: 'setVariable', name: 'V', value: v, sensitive: n % 2 === 0 })}`),
      fc.tuple(fc.nat({ max: 30 }), fc.integer({ min: -1, max: 255 })).map(([n, code]) => `${n} X ${code}`),
      fc.string({ unit: 'grapheme' }).map((s) => s.replaceAll('\n', ' ')),
    );
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 30 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 20 }),
        (lines, trailingNewline, cuts) => {
          const bytes = Buffer.from(lines.join('\n') + (trailingNewline ? '\n' : ''));
          const whole = parse(bytes.toString('utf8'), ['secret']);
          const { calls, handler } = recorder();
          const output = new BootstrapOutput(handler, { secrets: ['secret'] });
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          let start = 0;
          for (const point of [...points, bytes.length]) {
            output.write(bytes.subarray(start, point));
            start = point;
          }
          output.end();
          assert.deepEqual(calls, whole);
        },
      ),
    );
  });

  it('accounts for every line number once: shown, or reported missing', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 80 }), (numbers) => {
        const calls = parse(numbers.map((n) => `${n} O line ${n}\n`).join(''));
        const covered: number[] = [];
        for (const call of calls) {
          assert.ok('line' in call);
          const [stream, text, source] = call.line;
          if (stream === 'stdout') {
            covered.push(source!);
          } else {
            const range = /\((?:line (\d+)|lines (\d+)–(\d+))\)$/.exec(text)!;
            const first = Number(range[1] ?? range[2]);
            const last = Number(range[1] ?? range[3]);
            for (let n = first; n <= last; n++) covered.push(n);
          }
        }
        const highest = numbers.reduce((max, n) => Math.max(max, n), 0);
        assert.deepEqual(
          covered,
          Array.from({ length: highest }, (_, i) => i + 1),
        );
      }),
    );
  });
});

describe('LineSplitter', () => {
  it('decodes characters split across chunks and cuts overlong lines at fixed places', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    const bytes = Buffer.from('é\n日本\nend');
    for (const b of bytes) splitter.write(Uint8Array.of(b));
    splitter.end();
    assert.deepEqual(lines, ['é', '日本', 'end']);

    const huge: string[] = [];
    const big = new LineSplitter((l) => huge.push(l));
    const text = 'y'.repeat((1 << 20) * 2 + 3);
    big.write(Buffer.from(text.slice(0, 1000)));
    big.write(Buffer.from(`${text.slice(1000)}\nz`));
    big.end();
    assert.deepEqual(
      huge.map((l) => l.length),
      [1 << 20, 1 << 20, 3, 1],
    );
  });
});

import { StringDecoder } from 'node:string_decoder';
import {
  makeMasker,
  parseServiceMessage,
  type LogLine,
  type LogStream,
  type OutputVariable,
} from '@longshore/protocol';

export type LogLevel = NonNullable<LogLine['level']>;

/**
 * Where parsed output goes. Arguments are primitives so that the parser allocates nothing per
 * line: the receiver (the log shipper) builds the one record it keeps.
 */
export interface BootstrapOutputHandler {
  line(stream: LogStream, text: string, ts: number, source: number | undefined, level: LogLevel | undefined): void;
  progress(percentage: number, message: string): void;
  outputVariable(variable: OutputVariable): void;
  /** The end-of-output marker: the script is done and every line before it was seen. */
  end(exitCode: number): void;
}

export interface BootstrapOutputOptions {
  /** The operation's sensitive values: output is masked here again, in case the bootstrap could not. */
  secrets: readonly string[];
  /** The last line number already handled, when a reader resumes a broken log stream. */
  lastSource?: number;
}

/** The protocol's limit for one log line's text; longer lines are split. */
export const MAX_LINE_LENGTH = 65536;

/**
 * The bootstrap caps numbered lines at 64 KiB, so only foreign output (a shell's error, a
 * runtime's message) gets near this; it bounds what one line can hold in memory.
 */
const MAX_PENDING_LENGTH = 1 << 20;

/**
 * Bytes in, lines out (without the newline), the same lines however the bytes are chunked: a
 * character split between two chunks is decoded whole, and an overlong line is cut into pieces
 * of MAX_PENDING_LENGTH counted from its start.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Uint8Array): void {
    const text = this.rest + this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      while (nl - start > MAX_PENDING_LENGTH) {
        this.onLine(text.slice(start, start + MAX_PENDING_LENGTH));
        start += MAX_PENDING_LENGTH;
      }
      this.onLine(text.slice(start, nl));
      start = nl + 1;
    }
    while (text.length - start > MAX_PENDING_LENGTH) {
      this.onLine(text.slice(start, start + MAX_PENDING_LENGTH));
      start += MAX_PENDING_LENGTH;
    }
    this.rest = start === 0 ? text : text.slice(start);
  }

  /** The last line, when the output did not end with a newline. */
  end(): void {
    const tail = this.rest + this.decoder.end();
    this.rest = '';
    if (tail.length > 0) this.onLine(tail);
  }
}

const SPACE = 32;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const TAG_STDOUT = 79; // O
const TAG_STDERR = 69; // E
const TAG_END = 88; // X

/**
 * Reads the bootstrap's output: `<n> O <text>`, `<n> E <text>`, finally `<n> X <exit code>`.
 * Line numbers drop duplicates and reveal gaps (reported as a system line, never skipped
 * silently); anything else on the output becomes a system line, so nothing is lost.
 */
export class BootstrapOutput {
  private readonly splitter = new LineSplitter((raw) => this.line(raw, this.chunkTs));
  private readonly secrets: string[];
  private mask: (text: string) => string;
  private last: number;
  private chunkTs = 0;
  private exit: number | undefined;

  constructor(
    private readonly handler: BootstrapOutputHandler,
    options: BootstrapOutputOptions,
  ) {
    this.secrets = [...options.secrets];
    this.mask = makeMasker(this.secrets);
    this.last = options.lastSource ?? 0;
  }

  /** The number of the last line handled: where a resumed reader continues. */
  get lastSource(): number {
    return this.last;
  }

  /** The script's exit code once the end marker was read. */
  get exitCode(): number | undefined {
    return this.exit;
  }

  write(chunk: Uint8Array, ts: number = Date.now()): void {
    this.chunkTs = ts;
    this.splitter.write(chunk);
  }

  end(ts: number = Date.now()): void {
    this.chunkTs = ts;
    this.splitter.end();
  }

  /** One line of bootstrap output, without its newline (for readers that split lines themselves). */
  line(raw: string, ts: number): void {
    let n = 0;
    let i = 0;
    for (let c = raw.charCodeAt(0); c >= DIGIT_0 && c <= DIGIT_9 && i < 15; c = raw.charCodeAt(++i))
      n = n * 10 + c - DIGIT_0;
    const tag = raw.charCodeAt(i + 1);
    const validPrefix =
      i > 0 &&
      raw.charCodeAt(i) === SPACE &&
      (tag === TAG_STDOUT || tag === TAG_STDERR || tag === TAG_END) &&
      (raw.length === i + 2 || raw.charCodeAt(i + 2) === SPACE);
    const text = validPrefix ? raw.slice(i + 3) : '';
    if (!validPrefix || (tag === TAG_END && !/^-?\d{1,10}$/.test(text))) {
      this.emit('system', this.mask(raw), ts, undefined, undefined);
      return;
    }
    if (n <= this.last) {
      // Read again after a resume: not shown twice, but a variable it set still counts (a
      // restarted worker reads the whole log and must report the variables set before it died).
      if (tag !== TAG_END && text.startsWith('##')) this.replayVariable(text);
      return;
    }
    if (n > this.last + 1) this.emit('system', missingLines(this.last + 1, n - 1), ts, undefined, 'warning');
    this.last = n;
    if (tag === TAG_END) {
      this.exit = Number(text);
      this.handler.end(this.exit);
      return;
    }
    const stream: LogStream = tag === TAG_STDOUT ? 'stdout' : 'stderr';
    if (text.startsWith('##')) this.serviceMessage(stream, text, ts, n);
    else this.emit(stream, this.mask(text), ts, n, undefined);
  }

  private serviceMessage(stream: LogStream, text: string, ts: number, source: number): void {
    const parsed = parseServiceMessage(text);
    if (parsed === undefined) {
      this.emit(stream, this.mask(text), ts, source, undefined);
      return;
    }
    if (!parsed.ok) {
      this.emit(stream, this.mask(text), ts, source, undefined);
      this.emit(
        'system',
        this.mask(`The line above is not a valid service message: ${parsed.error}`),
        ts,
        undefined,
        'warning',
      );
      return;
    }
    const message = parsed.message;
    switch (message.kind) {
      case 'setVariable': {
        const name = this.setVariable(message);
        this.emit(
          'system',
          `Output variable '${name}' set${message.sensitive ? ' (sensitive)' : ''}`,
          ts,
          source,
          undefined,
        );
        return;
      }
      case 'progress':
        this.handler.progress(message.percentage, this.mask(message.message));
        return;
      case 'warning':
        this.emit(stream, this.mask(message.message), ts, source, 'warning');
        return;
    }
  }

  private replayVariable(text: string): void {
    const parsed = parseServiceMessage(text);
    if (parsed?.ok && parsed.message.kind === 'setVariable') this.setVariable(parsed.message);
  }

  /** Records the variable and returns its (masked) name. */
  private setVariable(message: { name: string; value: string; sensitive: boolean }): string {
    const name = this.mask(message.name);
    if (message.sensitive) {
      // From now on the value is a secret like any other: masked wherever it shows up.
      this.secrets.push(message.value);
      this.mask = makeMasker(this.secrets);
      this.handler.outputVariable({ name, value: message.value, sensitive: true });
    } else {
      this.handler.outputVariable({ name, value: this.mask(message.value), sensitive: false });
    }
    return name;
  }

  private emit(
    stream: LogStream,
    text: string,
    ts: number,
    source: number | undefined,
    level: LogLevel | undefined,
  ): void {
    if (text.length <= MAX_LINE_LENGTH) {
      this.handler.line(stream, text, ts, source, level);
      return;
    }
    for (let start = 0; start < text.length; start += MAX_LINE_LENGTH) {
      this.handler.line(stream, text.slice(start, start + MAX_LINE_LENGTH), ts, source, level);
    }
  }
}

function missingLines(first: number, last: number): string {
  return first === last
    ? `1 line is missing from the script output (line ${first})`
    : `${last - first + 1} lines are missing from the script output (lines ${first}–${last})`;
}

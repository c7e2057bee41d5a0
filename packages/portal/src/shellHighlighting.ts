/** What a piece of a shell script is, for its colour. */
export type ShellTokenKind = 'plain' | 'comment' | 'string' | 'variable' | 'keyword';

export interface ShellToken {
  kind: ShellTokenKind;
  text: string;
}

const KEYWORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'for',
  'while',
  'until',
  'do',
  'done',
  'case',
  'esac',
  'select',
  'function',
  'time',
  '!',
  '[[',
  ']]',
  '{',
  '}',
]);
/** Keywords after which the next word names a variable and the one after may be `in`. */
const TAKES_IN = new Set(['for', 'case', 'select']);
const SEPARATORS = new Set([';', '&', '|', '(', ')', '\n']);
const WORD_END = /[\s'"$;&|()<>`\\]/;
const SPECIAL_PARAMETER = /^[?#@*$!0-9-]/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

const SUBSTITUTION = /#{1,2}\{[^}\n]*\}/y;

/** Longshore's own `#{Name}` at `i`, substituted before the shell runs (`##{Name}` is its literal form). */
function substitutionAt(source: string, i: number): string | undefined {
  SUBSTITUTION.lastIndex = i;
  return SUBSTITUTION.exec(source)?.[0];
}

/** `$name`, `${...}`, `$1`, `$?`: the variable reference at `i` (which holds `$`), or undefined. */
function variableAt(source: string, i: number): string | undefined {
  const rest = source.slice(i + 1);
  if (rest.startsWith('{')) {
    const end = rest.indexOf('}');
    return end === -1 ? source.slice(i) : source.slice(i, i + end + 2);
  }
  const name = NAME.exec(rest)?.[0] ?? (SPECIAL_PARAMETER.test(rest) ? rest[0] : undefined);
  return name === undefined ? undefined : `$${name}`;
}

/**
 * Splits a shell script into coloured pieces: comments, quoted strings (with the variables inside
 * double quotes), variables (the shell's and Longshore's `#{Name}`), and keywords where a command starts. A highlighter, not a parser: it
 * never fails, and the pieces joined are the script exactly.
 */
export function shellTokens(source: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  const push = (kind: ShellTokenKind, text: string) => {
    const last = tokens[tokens.length - 1];
    if (last && last.kind === kind) last.text += text;
    else if (text) tokens.push({ kind, text });
  };
  let commandStart = true;
  let wordsUntilIn = 0;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const previous = source[i - 1];
    // `for x in`, `case "$x" in`: count the words (a quoted one too) to know an `in` from an argument.
    const wordsBefore = wordsUntilIn;
    if (!/\s/.test(c) && (previous === undefined || /\s/.test(previous))) wordsUntilIn = Math.max(0, wordsUntilIn - 1);
    const substitution = c === '#' ? substitutionAt(source, i) : undefined;
    if (substitution) {
      push(substitution.startsWith('##') ? 'plain' : 'variable', substitution);
      i += substitution.length;
      commandStart = false;
    } else if (c === '#' && (previous === undefined || WORD_END.test(previous))) {
      const end = source.indexOf('\n', i);
      push('comment', source.slice(i, end === -1 ? undefined : end));
      i = end === -1 ? source.length : end;
    } else if (c === "'") {
      const end = source.indexOf("'", i + 1);
      push('string', source.slice(i, end === -1 ? undefined : end + 1));
      i = end === -1 ? source.length : end + 1;
      commandStart = false;
    } else if (c === '"') {
      i = doubleQuoted(source, i, push);
      commandStart = false;
    } else if (c === '$') {
      const variable = variableAt(source, i);
      push(variable ? 'variable' : 'plain', variable ?? c);
      i += variable?.length ?? 1;
      commandStart = false;
    } else if (c === '\\') {
      push('plain', source.slice(i, i + 2));
      i += 2;
    } else if (SEPARATORS.has(c)) {
      push('plain', c);
      i++;
      commandStart = true;
      wordsUntilIn = 0;
    } else if (/\s/.test(c)) {
      push('plain', c);
      i++;
    } else {
      let end = i + 1;
      while (end < source.length && !WORD_END.test(source[end]!)) end++;
      const word = source.slice(i, end);
      const isIn = word === 'in' && wordsBefore === 1;
      const keyword: boolean = (commandStart && KEYWORDS.has(word)) || isIn;
      push(keyword ? 'keyword' : 'plain', word);
      if (keyword && TAKES_IN.has(word)) wordsUntilIn = 2;
      // After a keyword, or an assignment before a command (`A=1 make`), a command may follow.
      commandStart = (keyword && !isIn && !TAKES_IN.has(word)) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word);
      i = end;
    }
  }
  return tokens;
}

/** A double-quoted string from `start`, its variables picked out; answers where it ends. */
function doubleQuoted(source: string, start: number, push: (kind: ShellTokenKind, text: string) => void): number {
  let i = start + 1;
  let from = start;
  while (i < source.length && source[i] !== '"') {
    if (source[i] === '\\') {
      i += 2;
      continue;
    }
    const variable =
      source[i] === '$' ? variableAt(source, i) : source[i] === '#' ? substitutionAt(source, i) : undefined;
    if (variable?.startsWith('##')) i += variable.length;
    else if (variable) {
      push('string', source.slice(from, i));
      push('variable', variable);
      i += variable.length;
      from = i;
    } else i++;
  }
  const end = Math.min(i + 1, source.length);
  push('string', source.slice(from, end));
  return end;
}

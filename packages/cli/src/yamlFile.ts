import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { LongshoreError, type ErrorCode } from '@longshore/protocol';

/**
 * A YAML file a user gave the CLI, as plain data. Whatever is wrong with it comes back as one
 * typed error naming the file: unreadable, a syntax error (with line and column), or aliases
 * that expand past the parser's limit (a "billion laughs" document would take all memory).
 */
export function readYamlFile(path: string, code: Extract<ErrorCode, 'VALIDATION_FAILED' | 'CONFIG_INVALID'>): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LongshoreError(
      code,
      `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0)
    throw new LongshoreError(code, `${path} is not valid YAML:\n${doc.errors.map((e) => e.message).join('\n')}`);
  try {
    return doc.toJS();
  } catch (e) {
    throw new LongshoreError(
      code,
      `${path} cannot be read: its aliases expand too far (${(e as Error).message}); write the repeated parts out instead`,
    );
  }
}

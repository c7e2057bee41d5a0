import { format, resolveConfig } from 'prettier';

/** Generated tables go through the repository's formatter, so `npm run docs` output passes the format check. */
export async function prettyMarkdown(text: string, path: URL): Promise<string> {
  const options = await resolveConfig(path);
  return format(text, { ...options, parser: 'markdown' });
}

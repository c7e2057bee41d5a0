import { MASK } from './logLine.js';

/**
 * Replaces every occurrence of each secret with `********`. Longer secrets first, so a secret that
 * contains another is masked whole. Multi-line secrets are masked line by line, because output is
 * masked a line at a time.
 */
export function makeMasker(secrets: readonly string[]): (text: string) => string {
  const parts = new Set<string>();
  for (const s of secrets) for (const line of s.split(/\r?\n/)) if (line.length > 0) parts.add(line);
  const ordered = [...parts].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  };
}

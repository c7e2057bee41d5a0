// The version gate, in plain JavaScript so that it runs before anything is built or loaded: on
// an older Node.js a dependency fails while loading (better-sqlite3 13 segfaults on Node 20, and
// undici 8 needs 22.19), and the user should read why, not a native stack trace.
import { readFileSync } from 'node:fs';

/** The oldest Node.js this package runs on, from its `engines` (`>=MAJOR.MINOR`). */
export const minimumNode = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).engines.node.replace(/^>=\s*/, '');

/** The one-line reason `version` cannot run Longshore, or undefined when it can. */
export function nodeVersionProblem(version) {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const [needMajor = 0, needMinor = 0] = minimumNode.split('.').map(Number);
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return `Longshore needs Node.js ${minimumNode} or later (24 LTS recommended); this is Node.js ${version}.`;
}

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  console.error(problem);
  process.exit(1);
}

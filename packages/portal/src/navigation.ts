import { useEffect, useState } from 'react';

/** The page the address names: the portal's router, in one place (the server serves index.html for these paths too). */
export type Page =
  | { kind: 'dashboard' }
  | { kind: 'projects' }
  | { kind: 'project'; name: string }
  | { kind: 'infrastructure' }
  | { kind: 'task'; taskId: string }
  | { kind: 'audit' }
  | { kind: 'users' }
  | { kind: 'account' };

/** Pages whose address is one fixed path (the server's portalPages.ts PAGE_PATH lists the same). */
const FIXED_PAGES = new Map<string, Page>([
  ['/projects', { kind: 'projects' }],
  ['/infrastructure', { kind: 'infrastructure' }],
  ['/audit', { kind: 'audit' }],
  ['/users', { kind: 'users' }],
  ['/account', { kind: 'account' }],
]);

const TASK_PATH = /^\/tasks\/([A-Za-z0-9_-]+)$/;
/** A project by its name, encoded as one segment: names may hold spaces, slashes and any other character. */
const PROJECT_PATH = /^\/projects\/([^/]+)$/;

export function pageOf(pathname: string): Page {
  const task = TASK_PATH.exec(pathname);
  if (task) return { kind: 'task', taskId: task[1]! };
  const project = PROJECT_PATH.exec(pathname);
  const name = project ? decodedSegment(project[1]!) : undefined;
  if (name !== undefined) return { kind: 'project', name };
  return FIXED_PAGES.get(pathname) ?? { kind: 'dashboard' };
}

export const taskPath = (taskId: string): string => `/tasks/${encodeURIComponent(taskId)}`;
export const projectPath = (name: string): string => `/projects/${encodeURIComponent(name)}`;

/** undefined for an address that is not valid percent-encoding (typed or cut short by hand). */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function navigate(path: string): void {
  window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** The current page, following links and the browser's back and forward. */
export function usePage(): Page {
  const [page, setPage] = useState(() => pageOf(window.location.pathname));
  useEffect(() => {
    const update = () => setPage(pageOf(window.location.pathname));
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return page;
}

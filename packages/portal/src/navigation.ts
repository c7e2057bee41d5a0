import { useEffect, useState } from 'react';

/** The page the address names: the portal's router, in one place (the server serves index.html for these paths too). */
export type Page =
  { kind: 'dashboard' } | { kind: 'projects' } | { kind: 'infrastructure' } | { kind: 'task'; taskId: string };

const TASK_PATH = /^\/tasks\/([A-Za-z0-9_-]+)$/;

export function pageOf(pathname: string): Page {
  const task = TASK_PATH.exec(pathname);
  if (task) return { kind: 'task', taskId: task[1]! };
  if (pathname === '/projects') return { kind: 'projects' };
  if (pathname === '/infrastructure') return { kind: 'infrastructure' };
  return { kind: 'dashboard' };
}

export const taskPath = (taskId: string): string => `/tasks/${encodeURIComponent(taskId)}`;

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

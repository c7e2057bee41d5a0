import type { MouseEvent, ReactNode } from 'react';
import { navigate } from './navigation.js';

/** A link within the portal: a real href (opens in a new tab, copies), followed without a reload. */
export function Link({ to, children }: { to: string; children: ReactNode }) {
  const follow = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={follow}>
      {children}
    </a>
  );
}

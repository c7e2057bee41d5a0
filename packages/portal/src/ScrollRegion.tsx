import type { ReactNode } from 'react';

/**
 * A wide table at phone width scrolls sideways; a region that scrolls must be reachable by
 * keyboard (focusable) and say what it holds, or keyboard users cannot read it.
 */
export function ScrollRegion({ labelledBy, children }: { labelledBy: string; children: ReactNode }) {
  return (
    <div className="scroll" role="region" aria-labelledby={labelledBy} tabIndex={0}>
      {children}
    </div>
  );
}

import { createContext, useContext, type ReactNode } from 'react';
import type { PermissionName } from '@longshore/client';
import type { Access } from './access.js';

const AccessContext = createContext<Access | undefined>(undefined);

/** The signed-in user's access, for every page under it (App loads it from /api/me after sign-in). */
export const AccessProvider = AccessContext.Provider;

/**
 * What the signed-in user may do. The portal hides what they may not (the server refuses it
 * anyway): a control that can only fail is noise, and a disabled one still asks to be tried.
 */
export function useAccess(): Access {
  const access = useContext(AccessContext);
  if (!access) throw new Error('useAccess() is used outside <AccessProvider>');
  return access;
}

/** A page that needs a permission: reached by its address without it, what it needs instead of a failed load. */
export function Permitted(props: { title: string; permission: PermissionName; children: ReactNode }) {
  if (useAccess().may(props.permission)) return props.children;
  return (
    <>
      <h1>{props.title}</h1>
      <p className="empty">
        This page needs permission <code>{props.permission}</code>, which your roles do not give you; ask an
        administrator.
      </p>
    </>
  );
}

/** A built-in role's id: fixed, so every store has the same ones and config as code can name them. */
export const builtInRoleId = (name: string): string => `role-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;

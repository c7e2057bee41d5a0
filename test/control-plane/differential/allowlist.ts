// Differences between the sandbox and the reference accepted on purpose. Each entry names exactly
// what it excuses ('*' matches any step, request or field; field '(record)' is a request one run
// lacks) and says why in `reason`, which the fidelity report prints. An entry is a debt: prefer
// fixing the sandbox. Entries that match nothing are listed as unused so they get removed.
export interface AllowlistEntry {
  step: string;
  request: string;
  field: string;
  reason: string;
}

export const ALLOWLIST: readonly AllowlistEntry[] = [
  // Example shape (none needed yet, the sandbox does not exist):
  // { step: 'rbac', request: 'token request', field: 'spec.audiences', reason: 'sandbox issuer is https://longshore.sandbox' },
];

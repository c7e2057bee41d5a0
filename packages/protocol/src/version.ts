/** The version every Longshore part reports; the server offers upgrades to workers behind it. */
export const LONGSHORE_VERSION = '0.1.0';

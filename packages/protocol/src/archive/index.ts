export * from './packageEntries.js';
export * from './zipArchive.js';
export * from './tarEntries.js';

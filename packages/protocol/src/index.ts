export * from './errors.js';
export * from './operation.js';
export * from './logLine.js';
export * from './masking.js';
export * from './serviceMessages.js';
export * from './agentApi.js';
export * from './version.js';
export * from './thumbprint.js';

export * from './endpoint.js';
export * from './finding.js';
export * from './inventory.js';
export * from './live.js';
export * from './location.js';
export * from './planned.js';
export * from './runtime.js';
export * from './mailers.js';

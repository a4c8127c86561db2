export * from './namespace.js';
export * from './strace.js';
export * from './env.js';

export * from './shanghai-time.js';
export * from './working-days.js';
export * from './working-time.js';

export * from './dates';
export * from './stage';
export * from './library';
export * from './resolve';
export * from './grouping';
export * from './revise';
export * from './surveys';
export * from './suppression';

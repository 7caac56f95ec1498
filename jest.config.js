// One jest run, three projects: unit (no network), infra (CDK Template assertions), integration
// (real local emulators, started once by test/integration/global-setup.ts).
const swc = [
  '@swc/jest',
  { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // @middy/* ship ESM only; let swc turn them into CommonJS for jest's module registry.
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  // ...and point at their entry file, since their package.json exports only an `import` condition.
  moduleNameMapper: { '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};
/** @type {import('jest').Config} */
module.exports = {
  // On 2 cores jest runs every file in its own process (one worker means in band), and some libraries the
  // integration tests load keep handles open after their last test (esbuild's service, oidc-provider's and
  // undici's keep-alive timers), so jest would wait for ever once all tests passed. Every emulator and child
  // process is still stopped by the global teardown, which runs before this exit.
  forceExit: true,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
  ],
};

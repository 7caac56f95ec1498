// typescript-eslint strict + stylistic, type-aware (projectService reads tsconfig.json). Formatting is Prettier's.
// Every rule turned off or relaxed here carries its reason.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.local/', 'coverage/'] },
  eslint.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // noUncheckedIndexedAccess makes `xs[i]!` after a length or key check the idiom; banning it would mean casts.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Counts and flags in messages are what we log and print; objects and nullish values stay refused.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `return this.say(...)` ends a branch with the call that answers (the conversation's idiom) and
      // `() => doSomething()` is the callback idiom; splitting each into two statements adds nothing.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // `[...text]` is how we count and cut by code point (nicknames, LINE's limits): the Unicode-safe idiom.
      '@typescript-eslint/no-misused-spread': 'off',
      // Stripping control characters from what readers type (and ANSI codes from output) is deliberate.
      'no-control-regex': 'off',
      // `a || fallback` on strings deliberately treats '' like absent (an empty nickname gets the default).
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
      // Rest destructuring to drop keys (`{ pk: _pk, ...rest }`) and `_`-named placeholders are deliberate.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // The CLI's option objects (commander) and the emulators' request bodies are untyped JSON by nature; the
    // lambdas, schemas and lib stay fully checked.
    files: ['bin/**/*.ts', 'local/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // No-op callbacks and `a?.b!` are how tests say "ignore" and "must be there" (a wrong `!` fails the test).
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/no-non-null-asserted-optional-chain': 'off',
      // In-memory fakes implement async ports without awaiting anything; that is what a fake is.
      '@typescript-eslint/require-await': 'off',
      // CDK Template JSON and parsed fixtures are untyped by nature; tests assert on their shape instead.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { module: 'readonly', require: 'readonly', __dirname: 'readonly' } },
  },
);

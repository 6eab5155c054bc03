/**
 * Lint for the files k6 runs (qingjian.js, lib/*.js): they run in k6's own
 * JavaScript engine, Sobek, not in Node, so Node's checks say nothing about
 * them. This refuses what Sobek lacks or treats differently, for every k6 from
 * v0.53 (the minimum, loadtest/README.md) to v2.2 (the newest read against).
 * Each rule names the source it was read from (grafana/k6 at those tags, and
 * the Sobek each vendors under vendor/github.com/grafana/sobek).
 * `tests/loadtest.k6.test.ts` runs it, and checks that each rule refuses.
 *
 *   npx eslint loadtest/qingjian.js loadtest/lib/
 */
const SOBEK_V053 = 'not in the Sobek of k6 v0.53 (the minimum)';

/** Globals k6 defines (v0.53 js/bundle.go, js/runner.go; k6/timers exported globally). */
const K6_GLOBALS = {
  __ENV: 'readonly', __VU: 'readonly', __ITER: 'readonly', open: 'readonly', console: 'readonly',
  setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
};

const restrictedGlobals = [
  ['Intl', 'Sobek has no Intl (builtin_*.go): format numbers and dates by hand'],
  ['structuredClone', 'no structuredClone in k6: JSON.parse(JSON.stringify(…)) for plain data'],
  ['fetch', 'no fetch in k6: use k6/http'],
  ['BigInt', `BigInt is ${SOBEK_V053}`],
  ['WeakRef', 'Sobek has no WeakRef'],
  ['FinalizationRegistry', 'Sobek has no FinalizationRegistry'],
  ['SharedArrayBuffer', 'Sobek has no SharedArrayBuffer'],
  ['Atomics', 'Sobek has no Atomics'],
  ['WebAssembly', 'k6 has no WebAssembly'],
  ['queueMicrotask', 'k6 has no queueMicrotask'],
  ['URL', 'no global URL in k6 (jslib url); build URLs as strings'],
  ['URLSearchParams', 'no global URLSearchParams in k6'],
  ['TextEncoder', 'no TextEncoder in k6 v0.53'],
  ['TextDecoder', 'no TextDecoder in k6 v0.53'],
  ['AbortController', 'no AbortController in k6'],
  ['Blob', 'no Blob in k6'],
  ['atob', 'no atob in k6: k6/encoding'],
  ['btoa', 'no btoa in k6: k6/encoding'],
  ['performance', 'no performance in k6: Date.now()'],
  ['crypto', 'use k6/crypto'],
  ['WebSocket', 'use k6/ws (k6/websockets needs k6 v1.6)'],
  ['global', 'k6 defines `global` only in the extended compatibility mode'],
  ...['process', 'Buffer', 'require', 'module', 'exports', '__dirname', '__filename', 'setImmediate', 'clearImmediate']
    .map((name) => [name, 'a Node global: k6 is not Node']),
].map(([name, message]) => ({ name, message }));

/** Methods Sobek lacks (v0.53 and, where said, v2.2: builtin_array.go, builtin_object.go, builtin_set.go, …). */
const missingMethods = {
  toSorted: SOBEK_V053, toReversed: SOBEK_V053, toSpliced: SOBEK_V053, with: SOBEK_V053,
  isWellFormed: 'not in Sobek', toWellFormed: 'not in Sobek', groupBy: 'not in Sobek (Object.groupBy, Map.groupBy)',
  withResolvers: 'not in Sobek', fromAsync: 'not in Sobek', union: 'not in Sobek (Set methods)',
  intersection: 'not in Sobek (Set methods)', difference: 'not in Sobek (Set methods)', symmetricDifference: 'not in Sobek (Set methods)',
  isSubsetOf: 'not in Sobek (Set methods)', isSupersetOf: 'not in Sobek (Set methods)', isDisjointFrom: 'not in Sobek (Set methods)',
};

const restrictedSyntax = [
  {
    selector: 'CallExpression[callee.property.name=/^toLocale(String|DateString|TimeString)$/]',
    message: "Sobek's toLocale*String ignores locales (Number's is toString: 'en-US' is read as a radix and throws; Date's is en-GB): format by hand",
  },
  {
    selector: "CallExpression[callee.property.name='localeCompare'][arguments.length>1]",
    message: 'Sobek ignores the locales and options of localeCompare',
  },
  ...Object.entries(missingMethods).map(([name, why]) => ({
    selector: `MemberExpression[property.name='${name}']`, message: `${name}: ${why}`,
  })),
  { selector: 'AwaitExpression:not(:function AwaitExpression)', message: 'no top-level await: k6 runs the init code synchronously' },
  { selector: 'ForOfStatement[await=true]:not(:function ForOfStatement)', message: 'no top-level for await: k6 runs the init code synchronously' },
  { selector: 'ImportExpression', message: 'no dynamic import(): k6 must know every module before the run (k6 archive)' },
  { selector: "AssignmentExpression[operator=/^(\\?\\?|\\|\\||&&)=$/]", message: `logical assignment (??=, ||=, &&=) is ${SOBEK_V053} (token_const.go)` },
  { selector: 'Literal[bigint]', message: `BigInt literals are ${SOBEK_V053}` },
  { selector: 'Literal[raw=/^[0-9.][^\'"`]*_/]', message: `numeric separators (1_000) are ${SOBEK_V053} (parser/lexer.go)` },
  { selector: 'Literal[regex.flags=/[sdv]/]', message: `regular expression flags s, d and v: Sobek of k6 v0.53 accepts only g, i, m, u, y (builtin_regexp.go)` },
];

export default [
  {
    files: ['qingjian.js', 'lib/*.js'],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      // Only what ECMAScript defines, plus k6's own globals: anything else is undefined in k6.
      globals: K6_GLOBALS,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error', noInlineConfig: true },
    rules: {
      'no-undef': 'error',
      'no-restricted-globals': ['error', ...restrictedGlobals],
      'no-restricted-syntax': ['error', ...restrictedSyntax],
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^(?!k6$|k6/(http|ws|execution|metrics|timers|crypto|encoding|data)$|\\.\\.?/)', message: 'k6 scripts import k6 modules and relative files only (no Node built-ins, no npm packages)' },
          { regex: '^k6/(experimental/|websockets$)', message: 'needs a newer k6 than v0.53 or is experimental: use k6/ws' },
        ],
      }],
    },
  },
];

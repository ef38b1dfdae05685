import tseslint from 'typescript-eslint';

/**
 * The floors of the architecture as import bans: each folder says which other
 * folders it may import; every other src/ folder (and config.ts, app.ts,
 * main.ts) is banned. Only `app.ts` and `main.ts` compose everything; nothing
 * imports them, and only they read the sidecar's config.
 */
const FOLDERS = [
  'core',
  'wire',
  'schedule',
  'upstream',
  'observe',
  'service',
  'inject',
  'settings',
  'cli',
  'client',
  'dev',
];
const COMPOSITION = ['config', 'app', 'main'];

const LAYERS = {
  core: { may: [], why: 'the domain is pure: no transport, wire format, delivery, metrics, config or I/O' },
  wire: { may: ['core', 'generated'], why: 'the codec sits below the adapters: it knows only the domain types' },
  schedule: { may: ['core'], why: 'flush timing drives the core and hands stats to a sink interface' },
  upstream: { may: ['core', 'wire', 'observe', 'settings'], why: 'delivery never calls back into the RPC layer' },
  observe: { may: ['core', 'settings'], why: 'metrics and logs read state; they never reach into handlers' },
  service: { may: ['core', 'wire', 'observe', 'schedule', 'settings', 'generated'], why: 'the RPC adapter' },
  inject: {
    may: ['settings', 'observe'],
    why: 'the webhook is a separate program: it shares only the settings language',
  },
  settings: { may: [], why: 'the settings language is a leaf every program may use' },
  cli: { may: ['core', 'wire', 'client', 'dev', 'settings', 'generated'], why: 'tools talk to the sidecar over gRPC' },
  client: { may: ['wire', 'generated'], why: 'the typed client is what an SFU integrator copies' },
  dev: { may: ['wire', 'settings'], why: 'the development upstream is a separate program' },
};

const layerRules = Object.entries(LAYERS).map(([folder, { may, why }]) => {
  const banned = [...FOLDERS, 'generated', ...COMPOSITION].filter((f) => f !== folder && !may.includes(f));
  const patterns = [
    {
      group: banned.flatMap((f) => [`../${f}`, `../${f}.js`, `../${f}/**`]),
      message: `src/${folder} must not import this: ${why}.`,
    },
  ];
  if (folder === 'core' || folder === 'settings') {
    patterns.push({
      group: [
        '@grpc/*',
        'prom-client',
        'grpc-health-check',
        'yaml',
        '@livekit/*',
        ...(folder === 'core' ? ['pino', 'node:*'] : []),
      ],
      message: `src/${folder} stays free of transports, metrics and I/O libraries: ${why}.`,
    });
  }
  return { files: [`src/${folder}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/generated/**', 'coverage/**', 'reports/**', '.stryker-tmp/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'only', message: 'no focused tests' },
        { object: 'describe', property: 'only', message: 'no focused tests' },
        { object: 'test', property: 'only', message: 'no focused tests' },
      ],
    },
  },
  ...layerRules,
);

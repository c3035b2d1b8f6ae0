/**
 * The architecture, checked by `npm run lint` (dependency-cruiser): no import cycles, and
 * dependencies that go one way through the core library's three groups:
 *   platform  <-  stages (collect -> ingest -> transform -> publish)  <-  services  <-  runtime
 * and functions/, cli/ reach the core only through its public surfaces (@datacycle/core, and
 * @datacycle/core/validation for the offline commands).
 */
const core = '^layers/core/src/';
const stages = ['collect', 'ingest', 'transform', 'publish'];

/** A stage may use the stages before it in the cycle, never the ones after it. */
const laterStages = stages.map((stage, index) => ({
  name: `stage-${stage}-not-later-stages`,
  comment: `${stage} runs before ${stages.slice(index + 1).join(', ') || 'nothing'}: it may not import them`,
  severity: 'error',
  from: { path: `${core}stages/${stage}/` },
  to: { path: `${core}stages/(${stages.slice(index + 1).join('|') || '^$'})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: modules that cannot be read, tested or loaded one without the other',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'platform-stays-below',
      comment:
        'the platform (config, errors, events, storage, warehouse, runs, ...) knows no stage or service',
      severity: 'error',
      from: { path: `${core}platform/` },
      to: { path: `${core}(stages|services|runtime)` },
    },
    {
      name: 'stages-not-services',
      comment: 'a stage of the cycle does not depend on a service built on top of the stages',
      severity: 'error',
      from: { path: `${core}stages/` },
      to: { path: `${core}(services|runtime)` },
    },
    {
      name: 'services-not-runtime',
      comment: 'services take their clients as arguments; only functions wire the runtime',
      severity: 'error',
      from: { path: `${core}services/` },
      to: { path: `${core}runtime` },
    },
    ...laterStages,
    {
      name: 'core-not-outside',
      comment:
        'the core library is deployed alone as a layer: it imports nothing from the repository around it',
      severity: 'error',
      from: { path: core },
      to: { path: '^(functions|cli|cdk|localcloud|test|bench|bin)/' },
    },
    {
      name: 'entry-points-use-the-public-surface',
      comment: 'functions and the CLI import @datacycle/core, not its files (the layer ships one bundle)',
      severity: 'error',
      from: { path: '^(functions|cli)/' },
      to: { path: `${core}.+`, pathNot: `${core}(index|validation|validation-start)\\.ts$` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.json'] },
  },
};

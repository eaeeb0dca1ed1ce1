/**
 * The rooms of the tree and the directions they may import in (checked by `npm run lint`, part
 * of `npm test`). docs/architecture.md draws the same picture.
 *
 *   functions/        one thin handler per Lambda
 *   shared/stages/*   the pipeline's stages; one stage reaches another only through its index.ts
 *   shared/core/*     what the stages share (config, S3, DuckDB, stores, AWS clients, errors, settings)
 *   ops/              the operator surface (the landfall CLI); may start the local stack
 *   local/            the AWS stand-ins and the local stack
 *   deploy/           what `serverless package` runs (the pipeline plugin, the Glue catalog)
 */
const STAGE_INDEX = '^shared/stages/[^/]+/index\\.ts$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle ties modules that should stand apart', from: {}, to: { circular: true } },
    {
      name: 'core-never-imports-a-stage',
      severity: 'error',
      comment: 'shared/core is below the stages: it serves all of them and knows none',
      from: { path: '^shared/core/' },
      to: { path: '^shared/stages/' },
    },
    {
      name: 'stages-meet-at-their-index',
      severity: 'error',
      comment: "a stage uses another stage only through that stage's index.ts (its public surface)",
      from: { path: '^shared/stages/([^/]+)/' },
      to: { path: '^shared/stages/[^/]+/', pathNot: ['^shared/stages/$1/', STAGE_INDEX] },
    },
    {
      name: 'entry-points-use-the-public-surface',
      severity: 'error',
      comment: 'handlers, the operator surface, the local stack and the packaging use a stage through its index.ts',
      from: { path: '^(functions|ops|local|deploy)/' },
      to: { path: '^shared/stages/', pathNot: STAGE_INDEX },
    },
    {
      name: 'engine-stays-out-of-the-tools',
      severity: 'error',
      comment: 'the engine (functions/, shared/) never imports the CLI, the stand-ins, the packaging, samples, tests or benchmarks',
      from: { path: '^(functions|shared)/' },
      to: { path: '^(ops|local|deploy|examples|test|bench)/' },
    },
    {
      name: 'stand-ins-know-no-operator',
      severity: 'error',
      comment: 'the local stack is started by the operator surface, never the other way round',
      from: { path: '^(local|deploy)/' },
      to: { path: '^(ops|examples|test|bench)/' },
    },
    {
      name: 'handlers-stand-alone',
      severity: 'error',
      comment: 'a handler never imports another function',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/', pathNot: '^functions/$1/' },
    },
    {
      name: 'no-samples-in-the-tools',
      severity: 'error',
      comment: 'a pipeline (examples/*) is data the tools load by convention, never an import',
      from: { path: '^(functions|shared|ops|local|deploy)/' },
      to: { path: '^examples/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'aws-lambda is a types-only package',
      from: {},
      to: { couldNotResolve: true, pathNot: '^aws-lambda$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)(node_modules|\\.serverless|dist|\\.venv)/', '^test/fixtures/import-rules/'] },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.mjs', '.cjs', '.js', '.json'],
    },
  },
};

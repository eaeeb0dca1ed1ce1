'use strict';
// Serverless plugin: builds the functions with the chosen pipeline bundled beside each handler,
// before the functions are packaged: `serverless deploy --stage dev --param="pipeline=path/to/pipeline.yaml"`
// (default: the samples' examples/retail/pipeline.yaml). The deployed functions read exactly that.
// At package time it also adds the pipeline's Glue catalog and Athena workgroup to the template.
const { execFileSync } = require('node:child_process');
const { join, resolve } = require('node:path');
const { pathToFileURL } = require('node:url');

class LandfallPipeline {
  constructor(serverless) {
    this.serverless = serverless;
    const build = () => this.build();
    this.hooks = {
      'before:package:createDeploymentArtifacts': build,
      'before:deploy:function:packageFunction': build,
      'before:package:finalize': () => this.addCatalog(),
    };
  }

  /** The pipeline's Glue databases and tables (partition projection) and the Athena workgroup. */
  async addCatalog() {
    const root = this.serverless.config.servicePath;
    const file = resolve(root, this.serverless.service.custom.pipeline.file);
    const { tsImport } = await import('tsx/esm/api');
    const { catalogTemplateResources } = await tsImport(pathToFileURL(join(root, 'deploy', 'catalog-template.ts')).href, __filename);
    const stage = this.serverless.service.provider.stage;
    const resources = await catalogTemplateResources(file, stage, (line) => this.serverless.cli.log(line));
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    Object.assign(template.Resources, resources);
    // serverless.yml names the processed database `landfall_<stage>_processed` (convert's environment
    // and its Glue policy); the catalog normalises the stage (`dev-eu` → `dev_eu`): use its name
    const { databaseName } = await tsImport(pathToFileURL(join(root, 'shared', 'stages', 'catalog', 'index.ts')).href, __filename);
    const literal = `landfall_${stage}_processed`;
    const normalised = databaseName(stage, 'processed');
    if (literal !== normalised) template.Resources = JSON.parse(JSON.stringify(template.Resources).replaceAll(literal, normalised));
    this.serverless.cli.log(`landfall: the Glue catalog has ${Object.values(resources).filter((r) => r.Type === 'AWS::Glue::Table').length} tables`);
  }

  build() {
    const root = this.serverless.config.servicePath;
    const file = resolve(root, this.serverless.service.custom.pipeline.file);
    this.serverless.cli.log(`landfall: building the functions with the pipeline ${file}`);
    execFileSync(process.execPath, [join(root, 'esbuild.config.mjs'), '--pipeline', file], { cwd: root, stdio: 'inherit' });
  }
}

module.exports = LandfallPipeline;

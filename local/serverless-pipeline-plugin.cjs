'use strict';
// Serverless plugin: builds the functions with the chosen pipeline bundled beside each handler,
// before the functions are packaged: `serverless deploy --stage dev --param="pipeline=path/to/pipeline.yaml"`
// (default: the samples' examples/retail/pipeline.yaml). The deployed functions read exactly that.
const { execFileSync } = require('node:child_process');
const { join, resolve } = require('node:path');

class LandfallPipeline {
  constructor(serverless) {
    this.serverless = serverless;
    const build = () => this.build();
    this.hooks = {
      'before:package:createDeploymentArtifacts': build,
      'before:deploy:function:packageFunction': build,
    };
  }

  build() {
    const root = this.serverless.config.servicePath;
    const file = resolve(root, this.serverless.service.custom.pipeline.file);
    this.serverless.cli.log(`landfall: building the functions with the pipeline ${file}`);
    execFileSync(process.execPath, [join(root, 'esbuild.config.mjs'), '--pipeline', file], { cwd: root, stdio: 'inherit' });
  }
}

module.exports = LandfallPipeline;

#!/usr/bin/env node
// The `landfall` command: runs the TypeScript CLI through tsx (no build step for local use).
import { register } from 'tsx/esm/api';
register();
const { runCli } = await import('../ops/cli.ts');
process.exit(await runCli(process.argv.slice(2)));

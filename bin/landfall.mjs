#!/usr/bin/env node
// The `landfall` command: runs the TypeScript CLI through tsx (no build step for local use).
//
// The code needs Node 22 or newer (Promise.withResolvers, among others). Under an older `node` on
// PATH this file runs itself again with the project's own Node (the `node` devDependency that
// `npm ci` installs, Node 24), or says what is needed. Plain JavaScript that Node 18 still parses.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NEEDED_MAJOR = 22;
// set in the re-run: a project Node that is too old too must not start a loop
const REEXEC = 'LANDFALL_REEXEC_NODE';

if (Number(process.versions.node.split('.')[0]) < NEEDED_MAJOR) {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const own = (process.platform === 'win32' ? ['node_modules/node/bin/node.exe'] : ['node_modules/node/bin/node', 'node_modules/.bin/node'])
    .map((p) => join(root, p))
    .find((p) => existsSync(p));
  if (!own || process.env[REEXEC]) {
    process.stderr.write(
      `landfall needs Node.js ${NEEDED_MAJOR} or newer; this is ${process.version} (${process.execPath}).\n` +
        (own
          ? `The project's own Node (${own}) is too old as well: run \`npm ci\` in ${root} again.\n`
          : `Run \`npm ci\` in ${root}: it installs the project's own Node 24 (node_modules/.bin/node), which \`node bin/landfall.mjs\` then uses by itself. ` +
            `Or install Node.js ${NEEDED_MAJOR} or newer (https://nodejs.org).\n`),
    );
    process.exit(2);
  }
  const child = spawn(own, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [REEXEC]: own },
  });
  // A Ctrl-C on a terminal reaches the whole foreground process group, the child included: passing
  // it on too would deliver it twice (and `landfall up` stops at the first). A signal sent to this
  // process alone (kill, a supervisor) is passed on.
  const forward = (signal) => {
    if (signal === 'SIGINT' && process.stdin.isTTY) return;
    child.kill(signal);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'].filter((s) => process.platform !== 'win32' || s === 'SIGINT');
  for (const signal of signals) process.on(signal, forward);
  child.on('error', (err) => {
    process.stderr.write(`landfall: could not start ${own}: ${err.message}\n`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => {
    for (const s of signals) process.off(s, forward);
    // end the way the child ended: by the same signal, or with its exit code
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  // the processes it starts (handlers, a nested landfall) check afresh
  delete process.env[REEXEC];
  const { register } = await import('tsx/esm/api');
  register();
  const { runCli } = await import('../ops/cli.ts');
  process.exit(await runCli(process.argv.slice(2)));
}

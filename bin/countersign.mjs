#!/usr/bin/env node
// The `countersign` CLI (src/cli/). Two ways to run it:
// - installed without dev dependencies (`npm install github:…` into a folder, `npm ci --omit=dev`): the build,
//   dist/cli.js (made by `npm run build`, and by the `prepare` script when npm installs from git);
// - in a checkout with dev dependencies: the TypeScript sources through tsx, like `npm start`, so a
//   dist/ left over from an earlier build never hides an edit.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli.js', import.meta.url);

const tsx = existsSync(source) ? await import('tsx/esm/api').catch((err) => (err.code === 'ERR_MODULE_NOT_FOUND' ? null : Promise.reject(err))) : null;
if (tsx) {
  tsx.register();
  const { main } = await import(source.href);
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // Do not wait for idle keep-alive sockets; stdout and stderr are flushed by then.
  setTimeout(() => process.exit(code), 200).unref();
} else if (existsSync(built)) {
  // dist/cli.js runs the CLI on import (scripts/build.mjs).
  await import(built.href);
} else {
  process.stderr.write('countersign: the CLI is not built. Run `npm run build` (or `npm install`, which builds it) in the Countersign folder.\n');
  process.exit(1);
}

#!/usr/bin/env node
// The `countersign` CLI (src/cli/): runs the TypeScript sources through tsx, like `npm start`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Do not wait for idle keep-alive sockets; stdout and stderr are flushed by then.
setTimeout(() => process.exit(code), 200).unref();

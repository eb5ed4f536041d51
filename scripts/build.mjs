// `npm run build`: bundles the server (src/main.ts → dist/main.js) and the CLI (→ dist/cli.js) with esbuild,
// so production runs plain `node dist/main.js` with no TypeScript tooling installed.
//
// - Our sources become one ESM file per program; every package in node_modules stays an ordinary
//   import (`packages: 'external'`), so PGlite finds its wasm and data files where npm put them.
// - Files the code reads next to itself through `import.meta.url` are copied beside the bundle:
//   src/sandbox/public/ → dist/public/ and src/sandbox/presets/ → dist/presets/.
// - drizzle/ stays at the project root; src/db/client.ts finds it from the nearest package.json.
// - No type checking here: `npm run typecheck` (tsc 7) does that.
//
// Usage: node scripts/build.mjs [--outdir DIR] [--if-present]
//   --outdir      where to write (default dist/); tests build into a temporary folder inside the project,
//                 because the bundles import packages from the project's node_modules.
//   --if-present  for `npm prepare`: when esbuild is not installed (npm ci --omit=dev), say so and exit 0.
import { cpSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' }, 'if-present': { type: 'boolean', default: false } } });
const outdir = resolve(ROOT, values.outdir);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  if (values['if-present'] && err?.code === 'ERR_MODULE_NOT_FOUND') {
    process.stdout.write('build skipped: esbuild is not installed (a production install); dist/ is left as it is\n');
    process.exit(0);
  }
  throw err;
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.12',
  packages: 'external',
  // Colliding names are renamed in one bundle; keep the original class and function names for logs and stacks.
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  absWorkingDir: ROOT,
};

const started = performance.now();
rmSync(outdir, { recursive: true, force: true });
await Promise.all([
  esbuild.build({ ...common, entryPoints: { main: 'src/main.ts' }, outdir }),
  // The CLI bundle is a program: `node dist/cli.js help`. bin/countersign.mjs imports it when there is no tsx.
  esbuild.build({
    ...common,
    stdin: {
      contents: [
        "import { main } from './src/cli/main.ts';",
        'const code = await main(process.argv.slice(2));',
        'process.exitCode = code;',
        '// Do not wait for idle keep-alive sockets; stdout and stderr are flushed by then.',
        'setTimeout(() => process.exit(code), 200).unref();',
      ].join('\n'),
      resolveDir: ROOT,
      sourcefile: 'cli-entry.ts',
      loader: 'ts',
    },
    outfile: resolve(outdir, 'cli.js'),
  }),
]);
cpSync(resolve(ROOT, 'src/sandbox/public'), resolve(outdir, 'public'), { recursive: true, filter: (src) => !src.endsWith('.d.ts') });
cpSync(resolve(ROOT, 'src/sandbox/presets'), resolve(outdir, 'presets'), { recursive: true });
process.stdout.write(`built ${values.outdir === 'dist' ? 'dist/' : outdir} (main.js, cli.js, public/, presets/) in ${Math.round(performance.now() - started)} ms\n`);

// Bundles the two executables: dist/platform.js (every service; npm dependencies stay external, native ones
// included) and dist/deis.js (the CLI: one file, no dependencies, so it starts fast).
import { chmodSync, readFileSync, readdirSync } from 'node:fs';
import { build } from 'esbuild';

const external = new Set();
for (const dir of readdirSync('packages')) {
  const manifest = JSON.parse(readFileSync(`packages/${dir}/package.json`, 'utf8'));
  for (const name of Object.keys(manifest.dependencies ?? {})) if (!name.startsWith('@deis/')) external.add(name);
}

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: 'linked', logLevel: 'warning', legalComments: 'none' };

await Promise.all([
  build({
    ...common,
    entryPoints: { platform: 'packages/platform/src/main.ts' },
    outdir: 'dist',
    external: [...external],
    // Bundled CommonJS dependencies may call require(); give ESM output one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  }),
  // The CLI is linked as /usr/local/bin/deis by `./platform up`, so it carries its own interpreter line.
  // Its one CommonJS dependency (ws, for `deis run` on a terminal) calls require(); ESM output needs one.
  build({
    ...common,
    entryPoints: { deis: 'packages/cli/src/main.ts' },
    outdir: 'dist',
    minify: true,
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  }),
]);
chmodSync('dist/deis.js', 0o755);

/**
 * The default export of a file inside an installed package that its `exports` map does not list.
 * Used where a library's public API lacks what a measured fast path needs (its internal classes),
 * in one place per library (inbound/parse/postal-mime-parts.ts, reply-text.ts). The file is found
 * from the package's own directory, so it is the very module the package's entry imports, and a
 * release that moves it fails at load, not silently.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** The directory of `pkg`'s package.json, found up from its entry point (not every package exports package.json). */
function packageDir(pkg: string): string {
  for (let dir = dirname(require.resolve(pkg)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === pkg) return dir;
    if (dirname(dir) === dir) throw new Error(`the directory of package ${pkg} was not found`);
  }
}

/** `file` is relative to the package's directory, e.g. 'dist/esm/mime-node.js'. */
export async function importPackageFile<T>(pkg: string, file: string): Promise<T> {
  return ((await import(pathToFileURL(join(packageDir(pkg), file)).href)) as { default: T }).default;
}

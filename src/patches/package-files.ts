/**
 * Files and versions of installed packages, for the patches in this folder. A patch reaches files
 * a package's `exports` map does not list; it finds them from the package's own directory, so it
 * gets the very module the package's entry imports, and a release that moves them fails at load.
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

/** The version of `pkg` that `import pkg` loads from here. */
export function installedVersion(pkg: string): string {
  return (JSON.parse(readFileSync(join(packageDir(pkg), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The default export of `file`, relative to the package's directory, e.g. 'dist/esm/mime-node.js'. */
export async function importPackageFile<T>(pkg: string, file: string): Promise<T> {
  return ((await import(pathToFileURL(join(packageDir(pkg), file)).href)) as { default: T }).default;
}

/** A CommonJS file of the package, by its path inside the package, e.g. 'lib/tools.js'. */
export function requirePackageFile<T>(pkg: string, file: string): T {
  return require(join(packageDir(pkg), file)) as T;
}

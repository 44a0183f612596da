/**
 * Whether a library patch may be applied: POSTLINE_LIBRARY_PATCHES is not `off`, and the installed
 * release is the one the patch was written against. A patch reads private code of its library, so
 * on any other release it stays off (the library runs as published) and says so once in the log,
 * rather than guess at code it was never checked against.
 *
 * The switch is read from the environment each time a patch asks, because patches are applied in
 * the parser threads, which inherit the environment and not the loaded configuration; `postline`
 * copies the configured value (file or environment) into the environment at start-up.
 */
import { createLogger, type Logger } from '../core/log.js';
import { installedVersion } from './package-files.js';

export const LIBRARY_PATCHES_ENV = 'POSTLINE_LIBRARY_PATCHES';

/** False when POSTLINE_LIBRARY_PATCHES is `off` (any case); anything else, or unset, is on. */
export function libraryPatchesOn(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env[LIBRARY_PATCHES_ENV] ?? '').trim().toLowerCase() !== 'off';
}

let log: Logger | null = null;
const warned = new Set<string>();

/** Sends the version warnings elsewhere (tests); default JSON logs on stdout at POSTLINE_LOG_LEVEL. */
export function setPatchLogger(logger: Logger | null): void {
  log = logger;
  warned.clear();
}

/**
 * True when the patch `name` of `pkg`, written against `writtenFor`, may be applied now. A version
 * mismatch is logged (library_patch.version_mismatch) once per patch and process.
 */
export function patchApplies(pkg: string, writtenFor: string, name: string): boolean {
  if (!libraryPatchesOn()) return false;
  const installed = installedVersion(pkg);
  if (installed === writtenFor) return true;
  if (!warned.has(name)) {
    warned.add(name);
    log ??= createLogger(process.env.POSTLINE_LOG_LEVEL?.trim() || 'info');
    log.warn(
      { event: 'library_patch.version_mismatch', patch: name, package: pkg, writtenFor, installed },
      `${name} not applied: written for ${pkg} ${writtenFor}, ${installed} is installed`,
    );
  }
  return false;
}

import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The official Node client's example programs (node_modules/@socketlabs/email/examples), run
 * unmodified against a Postline. They `require('../../src/socketlabsClient')` and
 * `require('../exampleConfig')`, so they run from a copy of the examples beside a link to the
 * package's src/, and the only file written there is exampleConfig.js: their ServerId and key,
 * and the one change a customer moving to Postline makes, the host. The examples build their
 * client without an endpointUrl, so exampleConfig swaps SocketLabs' Injection API origin for
 * Postline's on each request of the package's own HTTP client (axios), leaving the path as it is.
 */
export interface SdkExamples {
  /** The copy's package directory (examples/ and src/ inside). */
  root: string;
  /** Runs one example (e.g. "basic/basicSend.js") from `cwd` (relative to root; default its own directory). */
  run(example: string, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  remove(): void;
}

const SOCKETLABS_INJECTION_ORIGIN = 'https://inject.socketlabs.com';

const EXAMPLE_CONFIG = `'use strict';
// Written by Postline's test suite: the examples' ServerId and key, and the host they send to.
const path = require('path');
const sdkSrc = path.dirname(require.resolve('../src/socketlabsClient'));
const axios = require(require.resolve('axios', { paths: [sdkSrc] }));
axios.interceptors.request.use((config) => {
  if (typeof config.url === 'string' && config.url.startsWith(${JSON.stringify(SOCKETLABS_INJECTION_ORIGIN)})) {
    config.url = process.env.POSTLINE_ORIGIN + config.url.slice(${SOCKETLABS_INJECTION_ORIGIN.length});
  }
  return config;
});
module.exports = {
  ServerId: parseInt(process.env.SOCKETLABS_SERVER_ID),
  ApiKey: process.env.SOCKETLABS_INJECTION_API_KEY,
};
`;

export function prepareSdkExamples(postlineOrigin: string, serverId: number, apiKey: string): SdkExamples {
  const require = createRequire(import.meta.url);
  const pkg = dirname(realpathSync(require.resolve('@socketlabs/email/package.json')));
  const root = join(mkdtempSync(join(tmpdir(), 'postline-sdk-examples-')), 'socketlabs-nodejs');
  cpSync(join(pkg, 'examples'), join(root, 'examples'), { recursive: true });
  symlinkSync(join(pkg, 'src'), join(root, 'src'), 'dir');
  writeFileSync(join(root, 'examples', 'exampleConfig.js'), EXAMPLE_CONFIG);
  // Two examples read html/sampleemail.html, spelt as on the case-insensitive disk they were written on.
  copyFileSync(join(root, 'examples', 'html', 'SampleEmail.html'), join(root, 'examples', 'html', 'sampleemail.html'));
  const env = {
    ...process.env,
    POSTLINE_ORIGIN: postlineOrigin,
    SOCKETLABS_SERVER_ID: String(serverId),
    SOCKETLABS_INJECTION_API_KEY: apiKey,
  };
  return {
    root,
    run(example, cwd) {
      const dir = join(root, cwd ?? join('examples', dirname(example)));
      return new Promise((resolve) => {
        execFile(process.execPath, [join(root, 'examples', example)], { cwd: dir, env, timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
        });
      });
    },
    remove() {
      rmSync(dirname(root), { recursive: true, force: true });
    },
  };
}

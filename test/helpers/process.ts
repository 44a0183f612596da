import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '../../bin/postline.js');

/**
 * Runs the real CLI (the built dist/, as users run it) and returns its output. Asynchronous: a
 * blocking spawnSync would stall the test worker's event loop, and with several slow CLI runs in
 * a row vitest's own RPC times out ("Timeout calling onTaskUpdate") and fails the run.
 */
export function cli(
  args: string[],
  env: Record<string, string | undefined>,
  /** Written to the CLI's standard input, then closed (e.g. a password for --password-stdin); none: no input. */
  input?: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  smtpPort: number | null;
  stderr: () => string;
  stdout: () => string;
}

/** Starts `postline serve` (with `args`, e.g. --roles) on a free port and waits until it listens (read from its JSON log). */
export async function serve(env: Record<string, string | undefined>, args: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    env: {
      ...process.env,
      POSTLINE_HTTP_PORT: '0',
      POSTLINE_HTTP_HOST: '127.0.0.1',
      POSTLINE_SUBMISSION_PORT: '0',
      POSTLINE_MX_PORT: '0',
      POSTLINE_SMTP_HOST: '127.0.0.1',
      POSTLINE_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /"event":"http.listening","port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`postline serve exited with ${code}: ${err}`)));
  });
  const smtp = /"event":"smtp.listening","port":(\d+)/.exec(out);
  return { child, port, smtpPort: smtp ? Number(smtp[1]) : null, stderr: () => err, stdout: () => out };
}

/** Resolves with the exit code, or the signal's name when a signal ended the process. */
export function exited(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
}

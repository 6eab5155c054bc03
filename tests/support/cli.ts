import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `qingjian rules …` as a person runs it: the real CLI in a child process. Without RULES_DIR the default is the
 * shipped rules/, which is what a command with no --dir must read.
 */
export function qingjianRules(...args: string[]): Promise<Run> {
  const { RULES_DIR: _ignored, ...env } = process.env;
  return runQingjian(['rules', ...args], { ...env, LOG_LEVEL: 'silent' });
}

/** The real CLI (`src/cli.ts`) in a child process, with exactly this environment; resolves when it exits. */
export function runQingjian(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: root, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

import { vi } from 'vitest';
import { runCli } from '../../ops/cli';

/** The landfall CLI in this process, its output captured (for what starts no stack: help, command-line errors, generate). */
export async function cli(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { status: await runCli(argv), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** Restores LANDFALL_CONFIG_FILE after each test: a command sets it to the pipeline it used. */
export function keepConfigEnv(hooks: { beforeEach: (fn: () => void) => void; afterEach: (fn: () => void) => void }): void {
  const saved = process.env.LANDFALL_CONFIG_FILE;
  hooks.beforeEach(() => {
    delete process.env.LANDFALL_CONFIG_FILE;
  });
  hooks.afterEach(() => {
    if (saved === undefined) delete process.env.LANDFALL_CONFIG_FILE;
    else process.env.LANDFALL_CONFIG_FILE = saved;
  });
}

import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { parsePlan, PlanError, type Plan } from '../core/planFile.js';

/**
 * Writes a file whole or not at all (temp file, fsync, rename, fsync of the folder): a crash
 * never leaves half a plan or half a result for a change record. Mode 0600: a plan lists
 * users' file names.
 */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const h = await open(tmp, 'w', 0o600);
  try {
    await h.writeFile(text);
    await h.sync();
  } catch (err) {
    await h.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await h.close();
  await rename(tmp, file);
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Indented for the reviewer; the checksum is over the canonical form, so layout does not matter. */
export async function writePlanFile(file: string, plan: Plan): Promise<void> {
  try {
    await writeFileAtomically(file, `${JSON.stringify(plan, null, 2)}\n`);
  } catch (err) {
    throw new PlanError(`cannot write the plan ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give --save-plan a path in a writable folder`);
  }
}

export async function readPlanFile(file: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PlanError(`cannot read the plan ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give --plan the file written by purge --dry-run --save-plan`);
  }
  return parsePlan(text, file);
}

/** `FILE.result.json`, beside the plan: the change record of its last application. */
export const resultFileOf = (planFile: string): string => `${planFile}.result.json`;

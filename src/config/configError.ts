/** One thing wrong with a config or policy file, said so that an admin can fix it. */
export interface ConfigProblem {
  file: string;
  /** Dotted key path, e.g. `nodes[0].database.port`; empty for the whole file. */
  key: string;
  line?: number;
  /** The offending value, already rendered (and never a secret). */
  value?: string;
  expected: string;
  fix?: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = `${p.file}${p.line ? `:${p.line}` : ''}`;
  const key = p.key ? ` key "${p.key}":` : '';
  const value = p.value !== undefined ? ` got ${p.value}` : '';
  const fix = p.fix ? ` Fix: ${p.fix}` : '';
  return `${where}:${key}${value}; expected ${p.expected}.${fix}`.replace(/:;/, ';');
}

/** Thrown when configuration cannot be used; carries every problem found, not just the first. */
/** Problems printed at most: past that, a list only buries the first mistake. */
const MAX_SHOWN = 20;

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(
      problems.length === 1
        ? `invalid configuration: ${formatProblem(problems[0]!)}`
        : `invalid configuration (${problems.length} problems):\n${problems
            .slice(0, MAX_SHOWN)
            .map((p) => `  - ${formatProblem(p)}`)
            .join('\n')}${problems.length > MAX_SHOWN ? `\n  ... and ${problems.length - MAX_SHOWN} more` : ''}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Renders a value for an error message, short and on one line. A map or list is described by
 * its shape, never printed: it could hold a secret written where it does not belong.
 */
export function renderValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length ? `a map with keys ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', ...' : ''}` : 'an empty map';
  }
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

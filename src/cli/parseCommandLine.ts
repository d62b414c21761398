import { COMMANDS, GLOBAL_OPTIONS, commandName, type CommandSpec, type OptionSpec } from './commandTable.js';
import { UsageError } from './io.js';

export type OptionValue = string | boolean | string[];

export interface ParsedCommandLine {
  /** Undefined when no command was named (`mft-retention`, `mft-retention --help`). */
  command?: CommandSpec;
  /** By long option name; an option left out is absent. */
  values: Record<string, OptionValue>;
  positionals: string[];
  help: boolean;
  version: boolean;
}

/** A command-line mistake of one command: printed with that command's usage line, exit 2. */
export class CommandUsageError extends UsageError {
  constructor(
    message: string,
    readonly command?: CommandSpec,
  ) {
    super(message);
  }
}

/**
 * Splits argv into the command (from the table), its options and its positional arguments.
 * Pure: only the table decides what is accepted, and anything else is a CommandUsageError
 * naming the argument and the nearest valid one. No option is ever ignored.
 */
export function parseCommandLine(argv: string[]): ParsedCommandLine {
  const words: string[] = [];
  let i = 0;
  // The command words come first; options before them would be ambiguous, so they are only
  // taken there when they are global (--help, --version).
  while (i < argv.length && !argv[i]!.startsWith('-')) words.push(argv[i++]!);
  const { command, rest } = resolveCommand(words, argv.slice(i));
  const options = command ? [...command.options, ...GLOBAL_OPTIONS] : GLOBAL_OPTIONS;
  const values: Record<string, OptionValue> = {};
  const positionals: string[] = [...rest.before];
  const args = rest.after;
  for (let j = 0; j < args.length; j++) {
    const arg = args[j]!;
    if (arg === '--') {
      positionals.push(...args.slice(j + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const spec = findOption(options, flag);
    if (!spec) throw unknownOption(flag, command);
    let value: string | boolean;
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new CommandUsageError(`${flag} takes no value (got "${flag}=${inline}"); write ${flag} alone`, command);
      value = true;
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = args[j + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) throw new CommandUsageError(`${flag} needs a value (${spec.value ?? 'VALUE'})`, command);
      value = next;
      j++;
    }
    if (spec.multiple) values[spec.name] = [...((values[spec.name] as string[] | undefined) ?? []), value as string];
    else if (spec.name in values) throw new CommandUsageError(`--${spec.name} is given twice; give it once`, command);
    else values[spec.name] = value;
  }
  const help = values.help === true;
  const version = values.version === true;
  if (command && !help && !command.positional && positionals.length > 0) {
    throw new CommandUsageError(`${commandName(command)} takes no argument "${positionals[0]}"${closestText(positionals[0]!, command.options.map((o) => o.name), ' (did you mean --%s?)')}`, command);
  }
  return { command, values, positionals, help, version };
}

function findOption(options: OptionSpec[], flag: string): OptionSpec | undefined {
  if (flag.startsWith('--')) return options.find((o) => o.name === flag.slice(2));
  if (flag.length === 2) return options.find((o) => o.short === flag[1]);
  return undefined;
}

/** The command named by the leading words; words after it are its positional arguments. */
function resolveCommand(words: string[], after: string[]): { command?: CommandSpec; rest: { before: string[]; after: string[] } } {
  if (words.length === 0) return { rest: { before: [], after } };
  const matches = COMMANDS.filter((c) => c.words.every((w, k) => words[k] === w));
  const command = matches.sort((a, b) => b.words.length - a.words.length)[0];
  if (command) return { command, rest: { before: words.slice(command.words.length), after } };
  const group = COMMANDS.filter((c) => c.words.length > 1 && c.words[0] === words[0]);
  if (group.length > 0) {
    const sub = words[1];
    const names = group.map((c) => c.words[1]!);
    throw new CommandUsageError(
      `${sub === undefined ? `"${words[0]}" needs a subcommand` : `unknown command "${words[0]} ${sub}"`}; ${closestText(sub ?? '', names, `did you mean "${words[0]} %s"?`) || `expected one of: ${group.map(commandName).join(', ')}`}`,
    );
  }
  const suggestion = closestText(words[0]!, COMMANDS.map((c) => c.words[0]!), 'did you mean "%s"?');
  throw new CommandUsageError(`unknown command "${words[0]}"${suggestion ? `; ${suggestion}` : `; commands: ${COMMANDS.map(commandName).join(', ')}`}`);
}

function unknownOption(flag: string, command: CommandSpec | undefined): CommandUsageError {
  const name = flag.replace(/^-+/, '');
  const hint = command?.hints?.[name];
  const own = [...(command?.options ?? []), ...GLOBAL_OPTIONS].map((o) => o.name);
  const elsewhere = COMMANDS.filter((c) => c !== command && c.options.some((o) => o.name === name)).map(commandName);
  let text = `unknown option ${flag}`;
  if (hint) text += `: ${hint}`;
  else {
    const near = closestText(name, own, 'did you mean --%s?');
    if (near) text += `; ${near}`;
    else if (elsewhere.length > 0) text += ` (it is an option of ${elsewhere.join(', ')})`;
    if (!command && elsewhere.length > 0) text += '; give the command first';
  }
  return new CommandUsageError(text, command);
}

/** `format` with %s replaced by the candidate nearest to `input`, or '' when none is near. */
function closestText(input: string, candidates: string[], format: string): string {
  const best = closest(input, candidates);
  return best === undefined ? '' : format.replace('%s', best);
}

/** The candidate nearest by edit distance (a swap counts once), if near enough to be a typo. */
export function closest(input: string, candidates: string[]): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(needle) && needle.length >= 3 ? 0.5 : editDistance(needle, c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

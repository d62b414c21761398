import { COMMANDS, GLOBAL_OPTIONS, commandName, type CommandSpec, type OptionSpec } from './commandTable.js';

/** `--config FILE`, `-c, --config FILE`. */
function optionLabel(o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}${o.multiple ? ' ...' : ''}`;
}

/** The one-line synopsis: `mft-retention purge --config FILE [options] [NODE]...`. */
export function usageLine(c: CommandSpec): string {
  const required = c.options.filter((o) => o.default === 'required' && o.name === 'config').map((o) => ` --${o.name} ${o.value}`);
  const rest = c.options.length > required.length ? ' [options]' : '';
  const pos = c.positional ? ` [${c.positional.name}]${c.positional.multiple ? '...' : ''}` : '';
  return `Usage: mft-retention ${commandName(c)}${required.join('')}${rest}${pos}`;
}

/** The command's own page: usage, description, every option with its default, examples, exit codes. */
export function commandHelp(c: CommandSpec): string {
  const options = [...c.options, ...GLOBAL_OPTIONS.filter((o) => o.name === 'help')];
  const width = Math.max(...options.map((o) => optionLabel(o).length), c.positional ? c.positional.name.length + 4 : 0);
  const lines = [usageLine(c), '', c.summary, '', c.description, ''];
  if (c.positional) lines.push('Arguments:', `  ${c.positional.name.padEnd(width)}  ${c.positional.summary}`, '');
  lines.push('Options:');
  for (const o of options) lines.push(`  ${optionLabel(o).padEnd(width)}  ${o.summary}${o.name === 'help' ? '' : ` [default: ${o.default}]`}`);
  lines.push('', 'Examples:', ...c.examples.map((e) => `  ${e}`), '', 'Exit codes:', ...c.exitCodes.map(([code, meaning]) => `  ${String(code).padStart(2)}  ${meaning}`));
  return lines.join('\n');
}

/** The overview page: every command with its summary. */
export function overviewHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => commandName(c).length));
  return [
    'Usage: mft-retention <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${commandName(c).padEnd(width)}  ${c.summary}`),
    '',
    'Run "mft-retention help COMMAND" or "mft-retention COMMAND --help" for the options of a command.',
    '',
    'Exit codes: 0 ok, 1 partial failure, 2 config, state or usage error, 3 connection error,',
    '            4 refused by a safety limit, 70 internal error.',
  ].join('\n');
}

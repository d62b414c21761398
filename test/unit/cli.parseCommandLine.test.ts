// Every command accepts exactly its own options and arguments: each command is walked with
// every option of every other command, and each must be a usage error (exit 2) naming the
// option, before anything is read or changed. The help pages come from the same table.
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandName, type CommandSpec, type OptionSpec } from '../../src/cli/commandTable.js';
import { main } from '../../src/cli/main.js';
import { closest, parseCommandLine } from '../../src/cli/parseCommandLine.js';
import type { Io } from '../../src/cli/io.js';

function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    env: {},
    out: (line: string) => void (io.stdout += `${line}\n`),
    err: (line: string) => void (io.stderr += `${line}\n`),
  };
  return io;
}

const allOptions = new Map<string, OptionSpec>();
for (const c of COMMANDS) for (const o of c.options) allOptions.set(o.name, o);
const argsFor = (o: OptionSpec): string[] => (o.type === 'string' ? [`--${o.name}`, 'x'] : [`--${o.name}`]);
// A config file that does not exist: a command that took the option would fail on the config
// instead, with a message that does not name the option.
const base = (c: CommandSpec): string[] => [...c.words, ...(c.options.some((o) => o.name === 'config') ? ['--config', '/nonexistent/config.yaml'] : [])];

describe('every command with every other command\'s options', () => {
  for (const c of COMMANDS) {
    const foreign = [...allOptions.values()].filter((o) => !c.options.some((own) => own.name === o.name));
    it(`${commandName(c)} refuses ${foreign.map((o) => `--${o.name}`).join(' ') || '(none)'}`, async () => {
      for (const o of foreign) {
        const io = capture();
        const code = await main([...base(c), ...argsFor(o)], io);
        expect(code, `${commandName(c)} --${o.name}: ${io.stderr}`).toBe(2);
        expect(io.stderr).toContain(`unknown option --${o.name}`);
        expect(io.stderr).toContain(`Usage: mft-retention ${commandName(c)}`);
        expect(io.stdout).toBe('');
      }
    });
    it(`${commandName(c)} takes each of its own options`, () => {
      for (const o of c.options) {
        const parsed = parseCommandLine([...(o.name === 'config' ? c.words : base(c)), ...argsFor(o)]);
        expect(parsed.command).toBe(c);
        expect(parsed.values[o.name]).toEqual(o.type === 'boolean' ? true : o.multiple ? ['x'] : 'x');
      }
    });
  }
});

describe('usage errors', () => {
  it('a typo gets the nearest option of the command, in the tool\'s own words', async () => {
    const io = capture();
    expect(await main(['purge', '--config', 'c.yaml', '--dryrun'], io)).toBe(2);
    expect(io.stderr).toContain('unknown option --dryrun; did you mean --dry-run?');
    expect(io.stderr).not.toMatch(/ERR_PARSE_ARGS|parseArgs|To specify a positional/);
    expect(closest('remove-orphan', ['remove-orphans', 'json'])).toBe('remove-orphans');
    expect(closest('chat', ['chat-type', 'config'])).toBe('chat-type');
    expect(closest('zzzz', ['json', 'node'])).toBeUndefined();
  });

  it('daemon --dry-run and reconcile --dry-run are refused, saying what to run instead', async () => {
    const d = capture();
    expect(await main(['daemon', '--config', 'c.yaml', '--dry-run'], d)).toBe(2);
    expect(d.stderr).toContain('mft-retention purge --config FILE --dry-run');
    const r = capture();
    expect(await main(['reconcile', '--config', 'c.yaml', '--dry-run', '--remove-orphans'], r)).toBe(2);
    expect(r.stderr).toContain('leave --remove-orphans out');
  });

  it('a stray argument, a repeated option, a missing value and a value given to a flag are errors', async () => {
    for (const [args, text] of [
      [['daemon', '--config', 'c.yaml', 'node_9'], 'daemon takes no argument "node_9"'],
      [['purge', '--config', 'a', '--config', 'b'], '--config is given twice'],
      [['purge', '--config'], '--config needs a value (FILE)'],
      [['purge', '--config', '--dry-run'], '--config needs a value (FILE)'],
      [['purge', '--config', 'c', '--json=yes'], '--json takes no value'],
      [['config', 'chek', '--config', 'c'], 'did you mean "config check"?'],
      [['purg', '--config', 'c'], 'did you mean "purge"?'],
      [['--config', 'c', 'purge'], 'give the command first'],
    ] as const) {
      const io = capture();
      expect(await main([...args], io), args.join(' ')).toBe(2);
      expect(io.stderr, args.join(' ')).toContain(text);
    }
  });

  it('NODE arguments are node names, the same as --node', () => {
    const p = parseCommandLine(['purge', '-c', 'c.yaml', 'node_9', '--node', 'cup1']);
    expect(p.positionals).toEqual(['node_9']);
    expect(p.values.node).toEqual(['cup1']);
  });
});

describe('help', () => {
  for (const c of COMMANDS) {
    it(`${commandName(c)} --help and help ${commandName(c)} print its own page`, async () => {
      const a = capture();
      expect(await main([...c.words, '--help'], a)).toBe(0);
      const b = capture();
      expect(await main(['help', ...c.words], b)).toBe(0);
      expect(a.stdout).toBe(b.stdout);
      expect(a.stdout).toContain(`Usage: mft-retention ${commandName(c)}`);
      for (const o of c.options) expect(a.stdout).toMatch(new RegExp(`--${o.name}\\b.*\\[default: `));
      expect(a.stdout).toContain('Examples:');
      expect(a.stdout).toMatch(/Exit codes:\n\s+0 /);
      for (const other of COMMANDS.filter((x) => x !== c && x.words[0] !== c.words[0])) expect(a.stdout).not.toContain(`Usage: mft-retention ${commandName(other)}`);
    });
  }

  it('help alone lists every command; no command at all is exit 2 with the list', async () => {
    const h = capture();
    expect(await main(['help'], h)).toBe(0);
    for (const c of COMMANDS) expect(h.stdout).toContain(commandName(c));
    const none = capture();
    expect(await main([], none)).toBe(2);
    expect(none.stdout).toContain('Usage: mft-retention <command>');
  });
});

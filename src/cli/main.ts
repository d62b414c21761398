import { existsSync } from 'node:fs';
import { ConfigError } from '../config/configError.js';
import { EXIT, type ExitCode } from '../shared/exitCodes.js';
import { processIo, UsageError, type Io } from './io.js';
import { purgeCommand } from './purgeCommand.js';
import { configCheckCommand } from './configCheckCommand.js';
import { LOG_LEVELS, type LogLevel } from '../config/logLevels.js';
import { commandName, COMMANDS } from './commandTable.js';
import { commandHelp, overviewHelp, usageLine } from './helpText.js';
import { CommandUsageError, parseCommandLine, type OptionValue } from './parseCommandLine.js';
import { StateFileError } from '../stateFiles/stateFileError.js';
import { versionText } from './version.js';

export const USAGE = overviewHelp();

function logLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined || (LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel | undefined;
  throw new UsageError(`--log-level: got "${value}"; expected one of ${LOG_LEVELS.join(', ')}`);
}

/** Typed reads of the parsed options (the table guarantees each option's type). */
function reader(values: Record<string, OptionValue>, env: NodeJS.ProcessEnv) {
  return {
    str: (name: string) => values[name] as string | undefined,
    flag: (name: string) => values[name] === true,
    list: (name: string) => values[name] as string[] | undefined,
    config: () => configPath(values.config as string | undefined, env),
  };
}

/** Where the config is when --config is not given: $MFT_RETENTION_CONFIG, else the packaged place. */
export const DEFAULT_CONFIG = '/etc/mft-retention/config.yaml';

function configPath(config: string | undefined, env: NodeJS.ProcessEnv): string {
  if (config) return config;
  const fromEnv = env.MFT_RETENTION_CONFIG;
  const file = fromEnv || DEFAULT_CONFIG;
  if (!existsSync(file)) {
    throw new UsageError(
      fromEnv
        ? `no config file: $MFT_RETENTION_CONFIG names ${file}, which does not exist; correct it, or give --config FILE`
        : `no config file: ${DEFAULT_CONFIG} does not exist; give --config FILE or set MFT_RETENTION_CONFIG (an example is examples/config.yaml)`,
    );
  }
  return file;
}

/** --node values and NODE arguments together; undefined (every node) when neither was given. */
function nodeNames(option: string[] | undefined, positionals: string[]): string[] | undefined {
  const all = [...(option ?? []), ...positionals];
  return all.length > 0 ? all : undefined;
}

/** Entry point of the command-line program; returns the exit code instead of exiting. */
export async function main(argv: string[], io: Io = processIo): Promise<ExitCode> {
  let parsed: ReturnType<typeof parseCommandLine> | undefined;
  try {
    parsed = parseCommandLine(argv);
    const { command, positionals } = parsed;
    if (parsed.version) {
      io.out(versionText(parsed.values.verbose === true));
      return EXIT.ok;
    }
    if (parsed.values.verbose === true) throw new UsageError('--verbose goes with --version: mft-retention --version --verbose');
    if (!command) {
      io.out(overviewHelp());
      return parsed.help ? EXIT.ok : EXIT.config;
    }
    if (parsed.help) {
      io.out(commandHelp(command));
      return EXIT.ok;
    }
    const v = reader(parsed.values, io.env);
    const nodes = nodeNames(v.list('node'), positionals);
    switch (commandName(command)) {
      case 'help': {
        if (positionals.length === 0) {
          io.out(overviewHelp());
          return EXIT.ok;
        }
        const target = parseCommandLine(positionals).command;
        io.out(target ? commandHelp(target) : overviewHelp());
        return EXIT.ok;
      }
      case 'purge':
        return await purgeCommand(
          {
            config: v.config(),
            dryRun: v.flag('dry-run'),
            json: v.flag('json'),
            nodes,
            chatTypes: v.list('chat-type'),
            asOf: v.str('as-of'),
            logLevel: logLevel(v.str('log-level')),
            alarms: v.flag('alarms'),
            approve: v.list('approve'),
            offline: v.flag('offline'),
            html: v.str('html'),
            until: v.str('until'),
            maxDuration: v.str('max-duration'),
            savePlan: v.str('save-plan'),
            plan: v.str('plan'),
          },
          io,
        );
      case 'reconcile': {
        const { reconcileCommand } = await import('./reconcileCommand.js');
        return await reconcileCommand({ config: v.config(), nodes, json: v.flag('json'), removeOrphans: v.flag('remove-orphans'), logLevel: logLevel(v.str('log-level')) }, io);
      }
      case 'daemon': {
        const { daemonCommand } = await import('./daemonCommand.js');
        return await daemonCommand({ config: v.config() }, io);
      }
      case 'config check':
        return await configCheckCommand(v.config(), v.flag('json'), io);
      case 'doctor': {
        const { doctorCommand } = await import('./doctorCommand.js');
        return await doctorCommand({ config: v.config(), json: v.flag('json'), nodes }, io);
      }
      case 'alarms': {
        const { alarmsCommand } = await import('./alarmsCommand.js');
        if (v.flag('test') && v.flag('check')) throw new UsageError('--check and --test cannot be combined');
        return await alarmsCommand({ config: v.config(), json: v.flag('json'), test: v.flag('test'), check: v.flag('check'), nodes }, io);
      }
      case 'state reset-history': {
        const { resetHistoryCommand } = await import('./stateCommands.js');
        return await resetHistoryCommand({ config: v.config(), nodes, all: v.flag('all') }, io);
      }
      case 'state reset-alarms': {
        const { resetAlarmsCommand } = await import('./stateCommands.js');
        return await resetAlarmsCommand({ config: v.config() }, io);
      }
      case 'demo': {
        const { demoCommand } = await import('./demoCommand.js');
        return await demoCommand({ keep: v.flag('keep') }, io);
      }
      default:
        throw new Error(`command "${commandName(command)}" is in the command table but has no handler`);
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StateFileError) {
      const config = parsed?.values.config;
      io.err(`mft-retention: ${typeof config === 'string' ? err.message.replace('--config FILE', `--config ${config}`) : err.message}`);
      return EXIT.config;
    }
    if (err instanceof UsageError) {
      const command = err instanceof CommandUsageError ? err.command : parsed?.command;
      const where = command ? commandName(command) : undefined;
      io.err(
        command
          ? `mft-retention ${where}: ${err.message}\n${usageLine(command)}\nRun "mft-retention help ${where}" for its options.`
          : `mft-retention: ${err.message}\nUsage: mft-retention <command> [options]\nRun "mft-retention help" for the commands.`,
      );
      return EXIT.config;
    }
    throw err;
  }
}

/** Every command name, for the tests and the manual pages. */
export const COMMAND_NAMES = COMMANDS.map(commandName);

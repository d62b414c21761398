import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/configError.js';
import { EXIT, type ExitCode } from './exitCodes.js';
import { processIo, UsageError, type Io } from './io.js';
import { purgeCommand } from './purgeCommand.js';
import { configCheckCommand } from './configCheckCommand.js';
import { LOG_LEVELS, type LogLevel } from '../config/schema.js';

export const USAGE = `Usage: mft-retention <command> [options]

Commands:
  purge --config FILE [--dry-run [--offline] [--html FILE]] [--json] [--node NAME]... [--chat-type TYPE]... [--as-of ISO8601]
        [--approve TOKEN]... [--alarms] [--log-level LEVEL]
        Run one purge cycle over the configured nodes and exit.
        --dry-run changes nothing and reports what would go; it logs in to each file server
        read-only to check the host key and the node directory, unless --offline; --html FILE
        also writes it as a page (per day and chat type, what is kept and why, what is refused).
        --as-of (dry-run only) simulates a date.
        --approve lets a run that a blast-radius limit refused go ahead once (the token is printed
        by the refused run, and approves that run only: same node, chat type, no more files or bytes).
        --alarms then runs the alarm checks and delivers raises and clears (for the systemd timer).
  reconcile --config FILE [--node NAME]... [--json] [--remove-orphans] [--log-level LEVEL]
        Compare the expired hour folders with AFT_LOG: files without a Post row (orphans) and
        Post rows whose file is missing. Read-only unless --remove-orphans.
  daemon --config FILE
        Run as a service: purge on the configured schedule, reload on SIGHUP, stop on SIGTERM,
        serve /healthz and /metrics (see daemon: in the config).
  config check --config FILE [--json]
        Validate the config and policies and print the effective settings (secrets masked).
  doctor --config FILE [--json] [--node NAME]...  Check each node's file server and database; says what to fix.
  alarms --config FILE [--json] [--node NAME]... [--check | --test]
        Show the raised alarms and undelivered alarm events (as the daemon keeps them);
        --check runs the alarm checks now and shows each verdict (exit 1 if one would raise);
        --test sends a test alarm to every sink (exit 3 if one cannot be reached).
  demo [--keep]
        Build a sandbox (embedded database, local file store), dry-run it, purge it, show what is left.
  help  Show this text.

Options: --config FILE (-c FILE) defaults to $MFT_RETENTION_CONFIG, else /etc/mft-retention/config.yaml.
--log-level (fatal, error, warn, info, debug, trace) overrides the level of the log on standard
error (purge, reconcile).

Exit codes: 0 ok, 1 partial failure, 2 config or usage error, 3 connection error,
            4 refused by a safety limit, 5 stopped by a signal, 6 the database refuses
            the DELETE (privilege, read-only standby), 70 internal error.`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  'dry-run': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  node: { type: 'string', multiple: true },
  'chat-type': { type: 'string', multiple: true },
  'as-of': { type: 'string' },
  approve: { type: 'string', multiple: true },
  'remove-orphans': { type: 'boolean', default: false },
  'log-level': { type: 'string' },
  keep: { type: 'boolean', default: false },
  test: { type: 'boolean', default: false },
  check: { type: 'boolean', default: false },
  alarms: { type: 'boolean', default: false },
  offline: { type: 'boolean', default: false },
  html: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const;

function logLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined || (LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel | undefined;
  throw new UsageError(`--log-level: got "${value}"; expected one of ${LOG_LEVELS.join(', ')}`);
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

/** Entry point of the command-line program; returns the exit code instead of exiting. */
export async function main(argv: string[], io: Io = processIo): Promise<ExitCode> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, sub] = positionals;
    if (values.version) {
      io.out('mft-retention 0.1.0');
      return EXIT.ok;
    }
    if (values.help || !command || command === 'help') {
      io.out(USAGE);
      return command || values.help ? EXIT.ok : EXIT.config;
    }
    switch (command) {
      case 'purge':
        return await purgeCommand(
          {
            config: configPath(values.config, io.env),
            dryRun: values['dry-run'],
            json: values.json,
            nodes: values.node,
            chatTypes: values['chat-type'],
            asOf: values['as-of'],
            logLevel: logLevel(values['log-level']),
            alarms: values.alarms,
            approve: values.approve,
            offline: values.offline,
            html: values.html,
          },
          io,
        );
      case 'reconcile': {
        const { reconcileCommand } = await import('./reconcileCommand.js');
        return await reconcileCommand({ config: configPath(values.config, io.env), nodes: values.node, json: values.json, removeOrphans: values['remove-orphans'], logLevel: logLevel(values['log-level']) }, io);
      }
      case 'daemon': {
        const { daemonCommand } = await import('./daemonCommand.js');
        return await daemonCommand({ config: configPath(values.config, io.env) }, io);
      }
      case 'config':
        if (sub !== 'check') throw new UsageError(`unknown command "config ${sub ?? ''}"; did you mean "config check"?`);
        return await configCheckCommand(configPath(values.config, io.env), values.json, io);
      case 'doctor': {
        const { doctorCommand } = await import('./doctorCommand.js');
        return await doctorCommand({ config: configPath(values.config, io.env), json: values.json, nodes: values.node }, io);
      }
      case 'alarms': {
        const { alarmsCommand } = await import('./alarmsCommand.js');
        if (values.test && values.check) throw new UsageError('--check and --test cannot be combined');
        return await alarmsCommand({ config: configPath(values.config, io.env), json: values.json, test: values.test, check: values.check, nodes: values.node }, io);
      }
      case 'demo': {
        const { demoCommand } = await import('../demo/demoCommand.js');
        return await demoCommand({ keep: values.keep }, io);
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`mft-retention: ${err.message}`);
      return EXIT.config;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`mft-retention: ${(err as Error).message}\n\n${USAGE}`);
      return EXIT.config;
    }
    throw err;
  }
}

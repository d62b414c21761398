import { LOG_LEVELS } from '../config/logLevels.js';

/**
 * Every command, its options, positional arguments, examples and exit codes, declared once:
 * the parser, the help pages and the manual pages are all made from this table. Adding an
 * option to a command is one line in its `options` list.
 */

export interface OptionSpec {
  /** Long name without the dashes: `dry-run`. */
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  /** May be given more than once (the values are collected in order). */
  multiple?: boolean;
  /** Placeholder of the value in the help: FILE, NAME. */
  value?: string;
  /** What happens when the option is left out, as the help shows it. */
  default: string;
  summary: string;
}

export interface CommandSpec {
  /** The words that name the command: `['config', 'check']`. */
  words: string[];
  summary: string;
  /** Longer description (a few lines) for the command's own help page. */
  description: string;
  /** Positional arguments after the command words, if any. */
  positional?: { name: string; multiple: boolean; summary: string };
  options: OptionSpec[];
  examples: string[];
  exitCodes: Array<[code: number, meaning: string]>;
  /** Why an option of another command is not taken here, and what to run instead. */
  hints?: Record<string, string>;
}

// Options shared by several commands, written once.
const config: OptionSpec = { name: 'config', short: 'c', type: 'string', value: 'FILE', default: '$MFT_RETENTION_CONFIG, else /etc/mft-retention/config.yaml', summary: 'the configuration file (YAML)' };
const json: OptionSpec = { name: 'json', type: 'boolean', default: 'off (text for a person)', summary: 'machine-readable output' };
const node: OptionSpec = { name: 'node', type: 'string', multiple: true, value: 'NAME', default: 'every configured node', summary: 'only this node (repeat for several); a NODE argument does the same' };
const logLevel: OptionSpec = {
  name: 'log-level',
  type: 'string',
  value: 'LEVEL',
  default: 'log.level of the config (warn for read-only runs)',
  summary: `level of the log on standard error: ${LOG_LEVELS.join(', ')}`,
};
const nodeArgument = { name: 'NODE', multiple: true, summary: 'a configured node name, the same as --node NODE' };

const OK: [number, string] = [0, 'success'];
const USAGE: [number, string] = [2, 'bad command line, config or state file: nothing was done'];
const CONNECTION: [number, string] = [3, "a node's file server or database could not be reached"];
const INTERNAL: [number, string] = [70, 'internal error (please report it with the log)'];

const seePurgeDryRun = 'to see what a purge would remove without changing anything, run: mft-retention purge --config FILE --dry-run';

export const COMMANDS: CommandSpec[] = [
  {
    words: ['purge'],
    summary: 'Run one purge cycle over the configured nodes and exit.',
    description: [
      'Removes the expired files of every configured node (never the current UTC hour) and then',
      'their AFT_LOG rows. --dry-run changes nothing and reports what a purge would remove.',
      'A run that a blast-radius limit refuses prints an --approve token that lets that run go once.',
    ].join('\n'),
    positional: nodeArgument,
    options: [
      config,
      { name: 'dry-run', type: 'boolean', default: 'off (a real purge)', summary: 'change nothing; report what a purge would do (it logs in to each file server read-only)' },
      { name: 'offline', type: 'boolean', default: 'off', summary: 'with --dry-run: do not log in to the file servers (their host keys and directories go unchecked)' },
      { name: 'html', type: 'string', value: 'FILE', default: 'none', summary: 'with --dry-run: also write the report as a self-contained page' },
      json,
      node,
      { name: 'chat-type', type: 'string', multiple: true, value: 'TYPE', default: 'every chat type', summary: 'only im, groupchat or persistent (repeat for several)' },
      { name: 'as-of', type: 'string', value: 'ISO8601', default: 'now', summary: 'with --dry-run: simulate this date (no offset means UTC)' },
      { name: 'approve', type: 'string', multiple: true, value: 'TOKEN', default: 'none', summary: 'let a run that a limit refused go ahead once (token printed by the refused run)' },
      { name: 'alarms', type: 'boolean', default: 'off', summary: 'after the purge, run the alarm checks and deliver raises and clears (systemd timer)' },
      { name: 'save-plan', type: 'string', value: 'FILE', default: 'none', summary: 'with --dry-run (one node): write what would go as a plan to review' },
      { name: 'plan', type: 'string', value: 'FILE', default: 'none', summary: 'remove exactly the files of a reviewed plan that have not changed since (docs/plans.md)' },
      { name: 'until', type: 'string', value: 'TIME', default: 'no end', summary: 'stop cleanly between batches at this time (HH:MM in daemon.timezone, or ISO-8601 with offset); the next run carries on' },
      { name: 'max-duration', type: 'string', value: 'DURATION', default: 'no limit', summary: 'stop cleanly between batches after this long (PT2H, 90m); the next run carries on' },
      logLevel,
    ],
    examples: ['mft-retention purge --config /etc/mft-retention/config.yaml --dry-run', 'mft-retention purge -c /etc/mft-retention/config.yaml --node cup1 --json'],
    exitCodes: [OK, [1, 'some files or rows could not be purged (the next run retries them)'], USAGE, CONNECTION, [4, 'refused by a safety limit (a dry-run says the same)'], [5, 'stopped by SIGTERM or SIGINT: the batch in flight was finished, the next run goes on'], [6, 'the database refuses the DELETE (a missing privilege, a read-only standby): the message names the GRANT'], INTERNAL],
    hints: {
      'remove-orphans': 'orphans are removed by: mft-retention reconcile --config FILE --remove-orphans',
    },
  },
  {
    words: ['reconcile'],
    summary: 'Compare the expired hour folders with AFT_LOG (read-only unless --remove-orphans).',
    description: [
      'Lists the files of expired hour folders that have no Post row (orphans) and the Post rows',
      'whose file is missing. Nothing is changed unless --remove-orphans is given.',
    ].join('\n'),
    positional: nodeArgument,
    options: [config, node, json, { name: 'remove-orphans', type: 'boolean', default: 'off (read-only)', summary: 'remove the orphan files found' }, logLevel],
    examples: ['mft-retention reconcile --config /etc/mft-retention/config.yaml', 'mft-retention reconcile -c /etc/mft-retention/config.yaml --node cup1 --remove-orphans'],
    exitCodes: [[0, 'nothing to reconcile, or every orphan removed'], [1, 'orphans or missing files found (or not removed)'], USAGE, CONNECTION, INTERNAL],
    hints: { 'dry-run': 'reconcile changes nothing unless --remove-orphans is given: leave --remove-orphans out' },
  },
  {
    words: ['daemon'],
    summary: 'Run as a service: purge on the schedule, serve /healthz and /metrics.',
    description: [
      'Purges each node on daemon.schedule, reloads the config on SIGHUP, stops on SIGTERM, serves',
      '/healthz and /metrics (daemon.http.listen) and runs the alarm checks. Logs go to standard output.',
    ].join('\n'),
    options: [config],
    examples: ['mft-retention daemon --config /etc/mft-retention/config.yaml'],
    exitCodes: [[0, 'stopped cleanly'], [1, 'stopped before a purge in progress finished'], USAGE, INTERNAL],
    hints: {
      'dry-run': `the daemon always purges; ${seePurgeDryRun}`,
      'log-level': 'the daemon logs at log.level of the config (a SIGHUP applies a change)',
      node: 'the daemon purges every node of the config; list only the nodes it should purge there',
    },
  },
  {
    words: ['config', 'check'],
    summary: 'Validate the config and policies; print the effective settings (secrets masked).',
    description: 'Reads the config and the policy files as the daemon would and prints what is in force, with every secret replaced by where it is read from.',
    options: [config, json],
    examples: ['mft-retention config check --config /etc/mft-retention/config.yaml'],
    exitCodes: [[0, 'the config is valid'], USAGE, INTERNAL],
  },
  {
    words: ['doctor'],
    summary: "Check each node's file server and database; says what to fix.",
    description: "Runs the checks of Cisco's External File Server and Database Status pages for each node: reachability, login, host key, directories, grants.",
    positional: nodeArgument,
    options: [config, json, node],
    examples: ['mft-retention doctor --config /etc/mft-retention/config.yaml', 'mft-retention doctor -c /etc/mft-retention/config.yaml cup1'],
    exitCodes: [[0, 'nothing failed (warnings allowed)'], [1, 'a check failed'], USAGE, [3, 'a node could not be reached or logged in to'], INTERNAL],
  },
  {
    words: ['alarms'],
    summary: 'Show raised alarms and undelivered events; --check runs the checks, --test tests the sinks.',
    description: [
      'Without options: the raised alarms and the events waiting for a sink, as the daemon keeps them.',
      '--check runs the alarm checks now and shows each verdict (changes nothing);',
      '--test sends a test alarm to every sink.',
    ].join('\n'),
    positional: nodeArgument,
    options: [
      config,
      json,
      node,
      { name: 'check', type: 'boolean', default: 'off', summary: 'run the alarm checks now and show each verdict' },
      { name: 'test', type: 'boolean', default: 'off', summary: 'send a test alarm to every sink' },
    ],
    examples: ['mft-retention alarms --config /etc/mft-retention/config.yaml', 'mft-retention alarms -c /etc/mft-retention/config.yaml --test'],
    exitCodes: [OK, [1, 'with --check: an alarm would be raised'], USAGE, [3, 'with --test: a sink could not be reached'], INTERNAL],
  },
  {
    words: ['state', 'reset-history'],
    summary: "Start a node's purge history again (the relative blast-radius limit counts from scratch).",
    description: [
      'The relative limit (purge.limits) compares each run with the recent runs kept in',
      'purge-history.json in daemon.stateDirectory. When that file is damaged the limit refuses the',
      "runs it cannot judge; this command deliberately empties the history of the given node(s),",
      'keeping the other nodes. A damaged file is replaced (and a copy kept beside it).',
    ].join('\n'),
    positional: nodeArgument,
    options: [config, { ...node, default: 'required', summary: 'the node whose history to reset (repeat for several)' }, { name: 'all', type: 'boolean', default: 'off', summary: 'reset the history of every node' }],
    examples: ['mft-retention state reset-history --config /etc/mft-retention/config.yaml --node cup1'],
    exitCodes: [[0, 'the history was reset'], USAGE, INTERNAL],
  },
  {
    words: ['state', 'reset-alarms'],
    summary: 'Start with no active alarms after alarms.json was damaged (a copy is kept).',
    description: [
      'The daemon, alarms and purge --alarms refuse to start on a damaged alarms.json in',
      'daemon.stateDirectory, so that no raised alarm is forgotten silently. This command moves the',
      'file aside (alarms.json.damaged-<time>) and starts with no active alarms and no queued events.',
      'Alarms still shown at a receiver are then cleared there by hand. Stop the daemon first.',
    ].join('\n'),
    options: [config],
    examples: ['mft-retention state reset-alarms --config /etc/mft-retention/config.yaml'],
    exitCodes: [[0, 'the alarm state was reset'], USAGE, INTERNAL],
  },
  {
    words: ['demo'],
    summary: 'Build a sandbox (embedded database, local file store), dry-run it, purge it.',
    description: 'Needs no config: builds a sandbox with an embedded PostgreSQL and a local file store, shows a dry-run and a purge, and what is left.',
    options: [{ name: 'keep', type: 'boolean', default: 'off (the sandbox is removed)', summary: 'keep the sandbox directory afterwards' }],
    examples: ['mft-retention demo', 'mft-retention demo --keep'],
    exitCodes: [OK, INTERNAL],
    hints: { config: 'demo needs no config; to purge with a config run: mft-retention purge --config FILE --dry-run' },
  },
  {
    words: ['help'],
    summary: 'Show this overview, or the help of one command (mft-retention help purge).',
    description: 'Without an argument: the list of commands. With a command: its usage, options with their defaults, examples and exit codes (the same as COMMAND --help).',
    positional: { name: 'COMMAND', multiple: true, summary: 'a command, e.g. purge or config check' },
    options: [],
    examples: ['mft-retention help', 'mft-retention help purge', 'mft-retention config check --help'],
    exitCodes: [OK, [2, 'unknown command']],
  },
];

/** Options every command takes: they print text and do nothing else. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'help', short: 'h', type: 'boolean', default: 'off', summary: "show the command's help" },
  { name: 'version', type: 'boolean', default: 'off', summary: 'show the version' },
  { name: 'verbose', type: 'boolean', default: 'off', summary: 'with --version: also the Node.js runtime that runs it' },
];

export const commandName = (c: CommandSpec): string => c.words.join(' ');

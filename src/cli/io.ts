/** What a command may touch of its process: injected so commands can be tested in-process too. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  /** Where a progress bar may be drawn: set only when standard error is a terminal. */
  progress?: { write(text: string): unknown; columns?: number };
}

export const processIo: Io = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  env: process.env,
  progress: process.stderr.isTTY ? process.stderr : undefined,
};

/** A mistake on the command line: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

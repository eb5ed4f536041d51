import { audit } from './audit.ts';
import { EXIT, UsageError, type Io } from './args.ts';
import { ConnectionError } from './client.ts';
import { AUDIT_HELP, CONFIG_HELP, MAIN_HELP, POLICY_HELP, SUBMIT_HELP, WAIT_HELP } from './help.ts';
import { submit } from './submit.ts';
import { wait } from './wait.ts';

const COMMANDS: Record<string, { run: (args: string[], io: Io) => Promise<number>; help: string }> = {
  submit: { run: submit, help: SUBMIT_HELP },
  wait: { run: wait, help: WAIT_HELP },
  audit: { run: audit, help: AUDIT_HELP },
  // Loaded on demand: they bring the config schema and the intake code (~0.5 s), which submit and wait never need.
  policy: { run: async (args, io) => (await import('./policy.ts')).policy(args, io), help: POLICY_HELP },
  config: { run: async (args, io) => (await import('./config.ts')).config(args, io), help: CONFIG_HELP },
};

export function processIo(): Io {
  return { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env, cwd: process.cwd() };
}

/** Runs one CLI invocation and returns its exit code (README, "CLI for CI"). */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(MAIN_HELP);
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h') {
    io.out(MAIN_HELP);
    return EXIT.ok;
  }
  if (name === 'help') {
    const topic = rest[0];
    if (topic === undefined) io.out(MAIN_HELP);
    else if (COMMANDS[topic]) io.out(COMMANDS[topic].help);
    else {
      io.err(`countersign: no help for ${JSON.stringify(topic)}\n\n${MAIN_HELP}`);
      return EXIT.usage;
    }
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`countersign: unknown command ${JSON.stringify(name)}\n\n${MAIN_HELP}`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`countersign ${name}: ${err.message}\n${err.showUsage ? `\n${usageOf(command.help)}Run \`countersign help ${name}\` for the options.\n` : ''}`);
      return EXIT.usage;
    }
    if (err instanceof ConnectionError || (err as { gitFailed?: boolean }).gitFailed) {
      io.err(`countersign ${name}: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
    io.err(`countersign ${name}: unexpected error: ${(err as Error).stack ?? err}\n`);
    return EXIT.usage;
  }
}

/** The `Usage:` block of a help text. */
function usageOf(help: string): string {
  const m = /Usage:\n(?:  .*\n)+/.exec(help);
  return m ? m[0] : '';
}

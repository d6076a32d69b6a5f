// The operator's command line: `npm run cli -- <command>`. Creates users (any role) and API tokens
// on the service's own database (DATABASE_URL, else PGlite in PGLITE_DIR) without going through
// HTTP, but through the same services and rules. Results go to stdout as JSON, errors to stderr.
// Add a command to COMMANDS below, and to the README.
import { parseArgs } from 'node:util';
import { destination, pino } from 'pino';
import { contracts, isPermission, PERMISSIONS } from '@ai-threads/contracts';
import { toUserResource } from './auth/auth.router.js';
import { DEFAULT_ROLE } from './auth/auth.service.js';
import { bootServices } from './bootstrap.js';
import { ConfigError, loadConfig } from './config.js';
import { AppError } from './errors.js';
import type { Services } from './services.js';
import { fieldErrorsFromIssues } from './trpc/validation.js';

const EXIT = { ok: 0, failed: 1, usage: 2, config: 78 } as const;

/** Bad command line: a missing or invalid flag, an unknown command. Exit 2. */
class UsageError extends Error {
  override name = 'UsageError';
}

/** The command ran and could not do what was asked (unknown user, email taken...). Exit 1. */
class CommandError extends Error {
  override name = 'CommandError';
}

type Flags = Record<string, string | undefined>;
type Runner = (services: Services) => Promise<unknown>;

interface Command {
  usage: string;
  flags: readonly string[];
  /** Checks the flags before the database is opened, and returns the work to do on it. */
  prepare(flags: Flags): Runner;
}

function required(command: string, flags: Flags, name: string): string {
  const value = flags[name];
  if (value === undefined) throw new UsageError(`${command} needs --${name}.`);
  return value;
}

/** Validates with a contract's schema; every failed rule is reported against its flag. */
function validate<T>(schema: { safeParse(input: unknown): { success: true; data: T } | { success: false; error: { issues: readonly unknown[] } } }, input: Record<string, unknown>): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = fieldErrorsFromIssues(result.error.issues as Parameters<typeof fieldErrorsFromIssues>[0], input);
  const lines = Object.entries(fields).flatMap(([field, messages]) =>
    messages.map((message) => `--${field.split('.')[0]!.replace(/_/g, '-')}: ${message}`),
  );
  throw new UsageError(lines.join('\n'));
}

const COMMANDS = new Map<string, Command>([
  [
    'users:create',
    {
      usage:
        'users:create --email E --password P [--name N] [--role member|viewer]\n' +
        '    Creates a user (role: member unless given) and prints it as JSON.',
      flags: ['email', 'password', 'name', 'role'],
      prepare(flags) {
        const input = validate(contracts.auth.signUp.input, {
          email: required('users:create', flags, 'email'),
          password: required('users:create', flags, 'password'),
          ...(flags['name'] !== undefined ? { name: flags['name'] } : {}),
        });
        const roleName = flags['role'] ?? DEFAULT_ROLE;
        return async ({ auth }) => {
          let user;
          try {
            user = await auth.createUser(input, roleName);
          } catch (error) {
            if (error instanceof AppError && error.fields?.['email']) {
              throw new CommandError(`The email ${input.email} has already been taken.`);
            }
            throw error;
          }
          if (!user) {
            const known = (await auth.roles()).map((r) => r.name).join(', ');
            throw new UsageError(`--role: no role is named "${roleName}" (roles: ${known}).`);
          }
          return toUserResource(user);
        };
      },
    },
  ],
  [
    'tokens:create',
    {
      usage:
        'tokens:create --email E --name N --permissions a,b [--expires-at ISO-8601]\n' +
        '    Creates a personal API token for the user and prints {"api_token", "token"};\n' +
        '    the secret (token) is shown this once. Permissions must be held by the user\'s role.',
      flags: ['email', 'name', 'permissions', 'expires-at'],
      prepare(flags) {
        const { email } = validate(contracts.auth.signUp.input.pick({ email: true }), {
          email: required('tokens:create', flags, 'email'),
        });
        const permissions = required('tokens:create', flags, 'permissions')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
        const unknown = permissions.filter((p) => !isPermission(p));
        if (unknown.length > 0) {
          throw new UsageError(`--permissions: unknown ${unknown.join(', ')} (known: ${PERMISSIONS.join(', ')}).`);
        }
        const input = validate(contracts.apiTokens.create.input, {
          name: required('tokens:create', flags, 'name'),
          permissions,
          ...(flags['expires-at'] !== undefined ? { expires_at: flags['expires-at'] } : {}),
        });
        return async (services) => {
          const principal = await services.auth.principalFor(email);
          if (!principal) throw new CommandError(`No user has the email ${email}.`);
          try {
            return await services.apiTokens.create(principal, input);
          } catch (error) {
            if (error instanceof AppError && error.fields) {
              throw new CommandError(Object.values(error.fields).flat().join('\n'));
            }
            throw error;
          }
        };
      },
    },
  ],
  [
    'roles:list',
    {
      usage: 'roles:list\n    Lists the roles and their permissions as JSON.',
      flags: [],
      prepare: () => (services) => services.auth.roles(),
    },
  ],
]);

function usage(): string {
  const commands = [...COMMANDS.values()].map((c) => `  ${c.usage.replace(/\n/g, '\n  ')}`).join('\n\n');
  return [
    'Usage: npm run cli -- <command> [options]',
    '',
    'Commands:',
    commands,
    '',
    `Permissions: ${PERMISSIONS.join(', ')}`,
    'Database: DATABASE_URL if set, else PGlite in PGLITE_DIR (default .data/pglite), as the server.',
    'Exit codes: 0 done, 1 the command failed, 2 usage error, 78 invalid configuration.',
    '',
  ].join('\n');
}

function parseFlags(name: string, command: Command, args: string[]): Flags | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(command.flags.map((flag) => [flag, { type: 'string' as const }])),
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (parsed.values['help'] === true) return 'help';
  return parsed.values as Flags;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    return EXIT.usage;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return EXIT.ok;
  }
  const command = COMMANDS.get(name);
  if (!command) throw new UsageError(`Unknown command "${name}".`);
  const flags = parseFlags(name, command, args);
  if (flags === 'help') {
    process.stdout.write(`Usage: npm run cli -- ${command.usage}\n`);
    return EXIT.ok;
  }
  const run = command.prepare(flags);

  const config = loadConfig(process.env);
  // stdout carries the result alone; whatever the services log goes to stderr.
  const logger = pino({ level: config.LOG_LEVEL, base: undefined }, destination({ dest: 2, sync: true }));
  const services = await bootServices(config, { logger });
  try {
    const result = await run(services);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT.ok;
  } finally {
    // Every connection, Redis's too: one left open would keep the process from exiting.
    await services.close();
  }
}

function report(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\nRun \`npm run cli -- --help\` for usage.\n`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    return EXIT.config;
  }
  if (error instanceof CommandError) {
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT.failed;
  }
  // Unexpected (the database is down, a bug): the message and its cause, not a stack trace.
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}${cause}\n`);
  return EXIT.failed;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error);
  },
);

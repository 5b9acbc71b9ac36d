import 'reflect-metadata';
import { parseArgs } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadAppConfig } from '@lyotrace/config';
import { CliModule } from './cli.module.js';
import { COMMANDS, describeError, FLAG_NAMES } from './commands.js';

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)} ${c.help}`);
  return `usage: npm run cli -- <command> [--flag value …]\n\ncommands:\n${lines.join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const options = Object.fromEntries(FLAG_NAMES.map((f) => [f, { type: 'string' as const }]));
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: typeof options }>
  >;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage()}`);
    return 2;
  }
  const { positionals, values } = parsed;
  const name = positionals[0];
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(name ? `unknown command ${name}\n\n${usage()}` : usage());
    return 2;
  }
  const config = loadAppConfig();
  let app: INestApplicationContext | undefined;
  try {
    return await command.run({
      config,
      flags: values,
      out: (line) => console.log(line),
      app: async () =>
        (app ??= await NestFactory.createApplicationContext(CliModule.register(config), {
          logger: ['error', 'warn'],
          abortOnError: false,
        })),
    });
  } finally {
    await app?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : `error: ${describeError(error)}`);
    process.exit(1);
  },
);

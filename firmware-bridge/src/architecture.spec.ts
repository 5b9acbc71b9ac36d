import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** STYLE.md habit 4 and ARCHITECTURE.md §2, checked on the source itself. */
describe('firmware-bridge/src boundaries', () => {
  const files = sources(SRC).map((f) => ({ path: relative(SRC, f), text: readFileSync(f, 'utf8') }));

  it('has exactly one file that imports serialport', () => {
    const importers = files.filter((f) =>
      /from ['"]serialport['"]|require\(['"]serialport['"]\)/.test(f.text),
    );
    expect(importers.map((f) => f.path)).toEqual(['serial/serial-link.ts']);
  });

  it('never reaches a database or Redis', () => {
    const offenders = files.filter((f) =>
      /from ['"](pg|ioredis|bullmq|typeorm|@lyotrace\/(persistence|services))['"]/.test(f.text),
    );
    expect(offenders.map((f) => f.path)).toEqual([]);
  });
});

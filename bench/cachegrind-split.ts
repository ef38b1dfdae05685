/**
 * Instructions per stat from two cachegrind runs of bench/inprocess.ts (few
 * and many rounds), split by what ran them: our JavaScript (JIT code, which
 * cachegrind cannot name), V8 builtins, other native code (runtime, libc,
 * Node), the garbage collector and the compilers. Totals moved by up to 10 %
 * between identical runs on a loaded machine, because V8 times GC and tier-up
 * by the wall clock; the first three together (the "mutator") moved far less,
 * so a change that does not alter allocation is judged on them
 * (bench/README.md).
 *
 *   node dist/bench/cachegrind-split.js STATS FEW.out MANY.out
 *
 * STATS is the number of stats the extra rounds handled (rounds difference × 5 000 by default).
 */
import { readFileSync } from 'node:fs';

const CATEGORIES = ['js', 'builtins', 'native', 'gc', 'compile'] as const;
type Category = (typeof CATEGORIES)[number];

const GC =
  /Scaveng|Marking|MarkCompact|Sweep|Evacuat|heap::|Heap|GCTracer|RememberedSet|SlotSet|MemoryChunk|PagedSpace|NewSpace|SemiSpace|Minor|MarkBit|BodyDescriptor|Pretenuring|WeakObjects|ObjectVisitor|LargeObject|TypedSlot|Worklist/;
const COMPILE =
  /compiler::|maglev::|Maglev|Turbofan|Scanner|Parser|Ast[A-Z]|interpreter::|BytecodeGenerator|Zone|baseline::|Compile|Deoptimiz|regexp/;

function category(fn: string): Category {
  if (GC.test(fn)) return 'gc';
  if (COMPILE.test(fn)) return 'compile';
  if (fn === '???') return 'js';
  if (fn.startsWith('Builtins_')) return 'builtins';
  return 'native';
}

/** Instructions per category in a cachegrind.out file (`fn=` lines, then `line count` lines). */
function load(path: string): Record<Category, number> {
  const sums: Record<Category, number> = { js: 0, builtins: 0, native: 0, gc: 0, compile: 0 };
  let current: Category = 'native';
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) current = category(line.slice(3).trim());
    else if (/^\d/.test(line)) sums[current] += Number(line.split(' ')[1] ?? 0);
  }
  return sums;
}

const [statsArg, fewPath, manyPath] = process.argv.slice(2);
if (!statsArg || !fewPath || !manyPath) {
  process.stderr.write('usage: cachegrind-split.js STATS FEW.out MANY.out\n');
  process.exit(2);
}
const stats = Number(statsArg);
const few = load(fewPath);
const many = load(manyPath);
const per = Object.fromEntries(CATEGORIES.map((c) => [c, Math.round((many[c] - few[c]) / stats)])) as Record<
  Category,
  number
>;
const mutator = per.js + per.builtins + per.native;
console.log(JSON.stringify({ ...per, mutator, total: mutator + per.gc + per.compile }));

/**
 * gaffer's benchmark (issue 2, section 8; issue 3 for RabbitMQ and Redis):
 * `npm run bench`, or `node build/bench/main.js [--quick] [--only a,b]
 * [--json [file]] [--broker amqp://... --store redis://...]`.
 * Every figure is measured in this run next to an anchor measured in the same
 * run; nothing is hard-coded but the targets the issues set. On a shared
 * 2-core machine other people's test runs would halve the figures, so each
 * timed scenario first waits (a while) for the machine to be quiet, and the
 * table says so when other processes took CPU meanwhile. With --broker and
 * --store, gaffer's figures run on RabbitMQ and Redis, under a queue name
 * and Redis prefix of the run's own, all deleted at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import { redactUrl } from '../src/adapters/redact-url.js';
import type { BenchContext } from './context.js';
import type { Figure } from './figure.js';
import { childPids } from './harness/processes.js';
import { startAbsenceMeter, startInterferenceMeter, waitForQuiet } from './harness/quiet.js';
import { ProductionStack, type Stack } from './harness/stack.js';
import { renderReport, type ScenarioError } from './report.js';
import { burstToBusy } from './scenarios/burst-to-busy.js';
import { cpuMakespan } from './scenarios/cpu-makespan.js';
import { longQueues } from './scenarios/long-queues.js';
import { memory } from './scenarios/memory.js';
import { noopThroughput } from './scenarios/noop-throughput.js';

/** `timed`: its figures are timings, which other processes' CPU use disturbs. */
const SCENARIOS: Record<string, { run: (ctx: BenchContext) => Promise<Figure[]>; timed: boolean }> = {
  'cpu-makespan': { run: cpuMakespan, timed: true },
  'noop-throughput': { run: noopThroughput, timed: true },
  'burst-to-busy': { run: burstToBusy, timed: true },
  memory: { run: memory, timed: false },
  'long-queues': { run: longQueues, timed: true },
};

const USAGE = `usage: node build/bench/main.js [--quick] [--only <name,...>] [--json [file]] [--broker <amqp-url> --store <redis-url>]
  --quick           shorter runs (fewer tasks and repetitions, same method)
  --only            run some scenarios: ${Object.keys(SCENARIOS).join(', ')}
  --json [file]     write the figures as JSON to the file, or to stdout (the table then goes to stderr)
  --broker <url>    run gaffer on RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672 (env GAFFER_BROKER); needs --store
  --store <url>     and on Redis, e.g. redis://127.0.0.1:6379 (env GAFFER_STORE); needs --broker
                    without both: the embedded broker and store, in temp dirs`;

interface Options {
  quick: boolean;
  only: string[];
  /** undefined: no JSON; '-': stdout; else a file. */
  json: string | undefined;
  broker: string | undefined;
  store: string | undefined;
}

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const options: Options = {
    quick: false,
    only: Object.keys(SCENARIOS),
    json: undefined,
    broker: env.GAFFER_BROKER || undefined,
    store: env.GAFFER_STORE || undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--broker' || arg === '--store') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) fail(`${arg} takes a URL`);
      if (arg === '--broker') options.broker = value;
      else options.store = value;
    } else if (arg === '--json') options.json = argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--') ? argv[++i]! : '-';
    else if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      const unknown = names.filter((name) => !(name in SCENARIOS));
      if (names.length === 0 || unknown.length > 0) fail(`--only takes scenario names among: ${Object.keys(SCENARIOS).join(', ')}`);
      options.only = names;
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown option ${arg}`);
  }
  if ((options.broker === undefined) !== (options.store === undefined)) {
    fail('the production stack is RabbitMQ and Redis together: give both --broker (GAFFER_BROKER) and --store (GAFFER_STORE), or neither');
  }
  if (options.broker !== undefined && !/^amqps?:\/\//.test(options.broker)) fail(`--broker takes an amqp:// URL, not ${redactUrl(options.broker)}`);
  if (options.store !== undefined && !/^rediss?:\/\//.test(options.store)) fail(`--store takes a redis:// URL, not ${redactUrl(options.store)}`);
  return options;
}

function fail(message: string): never {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

async function openStack(options: Options): Promise<Stack> {
  if (options.broker === undefined || options.store === undefined) return { kind: 'embedded', description: 'embedded (SQLite, a temp dir per pool)' };
  try {
    return await ProductionStack.open(options.broker, options.store);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const cores = os.availableParallelism();
  const stack = await openStack(options);
  const log = (message: string) => console.error(`[bench] ${message}`);
  const quietFor = options.quick ? 15_000 : 60_000;
  const ctx: BenchContext = {
    cores,
    quick: options.quick,
    stack,
    log,
    quiet: async (what) => {
      const busy = await waitForQuiet(quietFor);
      if (busy > 0.1) log(`${what}: the machine is still ${(busy * 100).toFixed(0)}% busy with other work; starting anyway`);
    },
  };
  if (stack.kind === 'production') {
    // Interrupted: the workers go with the terminal's signal; what the run made on RabbitMQ and Redis is deleted before leaving.
    const interrupted = (signal: NodeJS.Signals) => {
      log(`${signal}: deleting this run's queues and Redis keys, then leaving`);
      const timer = setTimeout(() => process.exit(130), 15_000);
      void stack
        .interrupt()
        .then((left) => left.length > 0 && log(`left on the servers: ${left.join('; ')}`))
        .catch((error: Error) => log(`clean-up failed: ${error.message}`))
        .finally(() => {
          clearTimeout(timer);
          process.exit(130);
        });
    };
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
  }
  // RabbitMQ's CPU is the scenario's own when gaffer runs on it, as Redis's is for BullMQ.
  const services = stack.kind === 'production' ? ['redis-server', 'beam.smp'] : ['redis-server'];
  ctx.log(`${cores} cores, node ${process.version}${options.quick ? ', quick' : ''}; gaffer on ${stack.description}; scenarios: ${options.only.join(', ')}`);

  const figures: Figure[] = [];
  const errors: ScenarioError[] = [];
  for (const name of options.only) {
    const scenario = SCENARIOS[name]!;
    if (scenario.timed) await ctx.quiet(name);
    const started = performance.now();
    const interference = startInterferenceMeter(services);
    const absence = startAbsenceMeter(cores);
    try {
      const produced = await scenario.run(ctx);
      const others = interference();
      const absent = absence();
      if (scenario.timed) ctx.log(`${name}: the host kept the machine's CPUs away ${(absent * 100).toFixed(0)}% of the time (steal, pauses)`);
      for (const figure of produced) {
        figure.details = { ...figure.details, othersCpuShare: Math.round(others * 1000) / 1000, hostAbsentShare: Math.round(absent * 1000) / 1000 };
        const disturbances = [
          ...(scenario.timed && others > 0.05 ? [`other processes used ${(others * 100).toFixed(0)}% of the machine's CPU meanwhile`] : []),
          ...(scenario.timed && absent > 0.05 ? [`the host kept the CPUs away ${(absent * 100).toFixed(0)}% of the time`] : []),
        ];
        if (disturbances.length > 0) {
          const disturbed = `${disturbances.join('; ')}: the timing is disturbed`;
          figure.note = figure.note ? `${figure.note}; ${disturbed}` : disturbed;
        }
      }
      figures.push(...produced);
    } catch (error) {
      // One broken scenario should not hide the others' figures.
      errors.push({ scenario: name, message: error instanceof Error ? error.message : String(error) });
      ctx.log(`${name} FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    ctx.log(`${name} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  // Every scenario checks its own processes; this catches anything that slipped through.
  const leftovers = childPids(process.pid);
  if (leftovers.length > 0) errors.push({ scenario: 'cleanup', message: `child process(es) still running: ${leftovers.join(', ')}` });
  if (stack.kind === 'production') {
    // Every part deleted its own queues and keys; this sweeps again and checks that RabbitMQ and Redis hold nothing of this run.
    try {
      const left = await stack.cleanUp();
      if (left.length > 0) errors.push({ scenario: 'cleanup', message: `left on the servers: ${left.join('; ')}` });
      else ctx.log(`clean-up: no queue, exchange or Redis key of this run is left (prefix ${stack.runPrefix})`);
    } catch (error) {
      errors.push({ scenario: 'cleanup', message: `could not clean up RabbitMQ and Redis: ${(error as Error).message}` });
    }
  }

  const table = `gaffer on ${stack.description}\n${renderReport(figures, errors)}`;
  if (options.json === '-') console.error(table);
  else console.log(table);
  if (options.json !== undefined) {
    const json = JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        cores,
        cpu: os.cpus()[0]?.model ?? 'unknown',
        quick: options.quick,
        stack:
          stack.kind === 'embedded'
            ? { kind: 'embedded' }
            : { kind: 'production', broker: redactUrl(stack.amqpUrl), store: redactUrl(stack.redisUrl), redisPrefix: stack.runPrefix },
        figures,
        errors,
      },
      null,
      2,
    );
    if (options.json === '-') console.log(json);
    else fs.writeFileSync(options.json, `${json}\n`);
  }
  if (errors.length > 0) process.exitCode = 1;
}

await main();

/**
 * `npm run bench`: ours beside the reference Redis MCP server and the
 * ceilings (SDK echo servers, raw ioredis, a bare node:http echo), over stdio
 * in both protocol eras and over HTTP, on one redis-server started here.
 * Prints one table with ratios and writes it as JSON. Numbers only: nothing
 * here fails on speed. See `npm run bench -- --help`.
 */
import { execFileSync } from "node:child_process"
import { cpus, loadavg } from "node:os"
import { resolve } from "node:path"
import { stopAll } from "../test/support/registry.ts"
import { parseOptions } from "./options.ts"
import { path, ROOT } from "./processes.ts"
import { Results } from "./results.ts"
import { runHttp } from "./run-http.ts"
import { runIoredis, startBenchRedis } from "./run-redis.ts"
import { runSpawnOnly, runStdio } from "./run-stdio.ts"
import type { Era } from "./stdio-client.ts"
import { httpSystems, type StdioSystem, stdioSystems } from "./systems.ts"
import { renderTable, writeJson } from "./table.ts"

const options = parseOptions(process.argv.slice(2))
const started = performance.now()
const log = (line: string) =>
  process.stderr.write(`bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s  ${line}\n`)

const commit = (): string => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim()
  } catch {
    return "unknown"
  }
}

const loadBefore = loadavg()[0]!
const { redis, version } = await startBenchRedis()
const results = new Results()
try {
  const stdio = stdioSystems(redis.url, options.baselineDist)
  const http = httpSystems(redis.url, options.baselineDist)
  const sessions: Array<{ system: StdioSystem; era: Era }> = stdio.flatMap((system) =>
    system.eras.map((era) => ({ system, era }))
  )
  const unusable = new Set<unknown>()
  for (let run = 1; run <= options.runs; run++) {
    // A different server goes first in each run, so a change in machine load does not always hit the same one.
    const shift = (run - 1) % sessions.length
    for (const s of [...sessions.slice(shift), ...sessions.slice(0, shift)]) {
      if (unusable.has(s)) continue
      log(`run ${run}/${options.runs}: ${s.system.name}, stdio ${s.era}`)
      if (!(await runStdio(results, s.system, s.era, options))) unusable.add(s)
    }
    log(`run ${run}/${options.runs}: ioredis`)
    await runIoredis(results, redis.url, options)
    for (const h of http) {
      if (unusable.has(h)) continue
      log(`run ${run}/${options.runs}: ${h.name}, HTTP`)
      if (!(await runHttp(results, h, options))) unusable.add(h)
    }
  }
  for (let k = options.runs; k < options.spawns; k++) {
    log(`spawn → first tools/list, sample ${k + 1}/${options.spawns}`)
    for (const s of sessions) if (!unusable.has(s)) await runSpawnOnly(results, s.system, s.era)
  }
} finally {
  await redis.dispose()
  await stopAll()
}

const rows = results.rows()
const report = {
  meta: {
    date: new Date().toISOString(),
    commit: commit(),
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
    redis: version,
    loadAverage: { before: loadBefore, after: loadavg()[0] },
    options,
    note: "value is the median over runs; ratios are this row's value ÷ the reference's / the ceiling's (calls/s: higher is better; ms, MiB: lower is better)"
  },
  rows
}
process.stdout.write(
  `\nnpm run bench: ${options.runs} run(s) of ${options.calls} calls after ${options.warmup} warm-up (median), ` +
    `node ${process.version}, redis ${version}, ${report.meta.cpus}, commit ${report.meta.commit}, ` +
    `load average ${loadBefore.toFixed(1)} before / ${report.meta.loadAverage.after?.toFixed(1)} after\n\n${renderTable(rows)}\n` +
    "ratios: this row ÷ the reference / the ceiling (calls/s: higher is better; ms and MiB: lower is better)\n" +
    "CPU µs/op: the server process's own CPU time per operation (all threads), the figure least moved by other load\n"
)
const files = [path("bench/results/latest.json"), ...(options.out === undefined ? [] : [resolve(options.out)])]
for (const file of files) writeJson(file, report)
process.stdout.write(`JSON: ${files.join(", ")}\n`)

/**
 * Peak memory of big reads (outside `npm test`): each read of issue 9 items 1
 * and 6 (test/integration/read-bounds/target.ts) against a fresh redis-server
 * and a fresh built server, printing the server's peak RSS growth and what it
 * still holds after a GC, and what Redis sent and how its memory peaked.
 *
 *   npm run build && npx node scripts/read-bounds.ts
 *   npx node scripts/read-bounds.ts --main path/to/other/dist/main.js --only mget,pubsub
 *
 * Linux only (peaks come from /proc/<pid>/status VmHWM, reset through clear_refs).
 */
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { SCENARIOS, startTarget } from "../test/integration/read-bounds/target.ts"
import { MiB, peakGrowth, peakRss, resetPeak } from "../test/support/memory.ts"

const { values: args } = parseArgs({
  options: {
    main: { type: "string", default: fileURLToPath(new URL("../dist/main.js", import.meta.url)) },
    only: { type: "string" }
  }
})

const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`

process.stdout.write(`server ${args.main}\n`)
for (const s of SCENARIOS) {
  const short = s.name.split(" ")[0]!
  if (args.only !== undefined && !args.only.split(",").some((w) => s.name.includes(w))) continue
  const t = await startTarget(args.main)
  await s.load(t)
  await t.call("ping", {})
  resetPeak(t.redisPid)
  const redisBefore = await t.redisStats()
  const redisRss = peakRss(t.redisPid)
  const heldBefore = await t.retained()
  const { result, before, peak, growth } = await peakGrowth(t.serverPid, () => s.run(t))
  const heldAfter = await t.retained()
  const redisAfter = await t.redisStats()
  process.stdout.write(
    `${short.padEnd(9)} server rss ${mib(before)} -> peak ${mib(peak)} (+${mib(growth)}), ` +
      `held after GC +${mib(heldAfter - heldBefore)}` +
      (result.buffered === undefined ? "" : `, buffered after GC +${mib(result.buffered)}`) +
      `; redis sent ${mib(redisAfter.sent - redisBefore.sent)}, rss ${mib(redisRss)} -> peak ${mib(peakRss(t.redisPid))}, ` +
      `used_memory_peak +${mib(redisAfter.usedPeak - redisBefore.usedPeak)}; ` +
      `${result.ok ? "ok" : "error"} ${result.text.length} chars${result.ok ? "" : ` ${result.text.slice(0, 90)}`}\n`
  )
  await t.stop()
}

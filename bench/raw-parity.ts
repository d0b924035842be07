/**
 * Checks that the raw stdio driver writes the bytes the SDK clients write:
 * each SDK client (v1 for 2025-11-25, v2 pinned to 2026-07-28) talks to the
 * SDK v2 echo server through `tee`, and every line raw-wire.ts builds for the
 * same session must be among the captured lines, byte for byte. The v2 Client
 * sends its `server/discover` probe to a sibling process it spawns first (the
 * raw driver sends the same line to the one server); the capture file gets
 * both processes' input. Exit 1 on a difference.
 *
 *   npx node bench/raw-parity.ts
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeTempDir, removeTempDir, stopAll } from "../test/support/registry.ts"
import { path } from "./processes.ts"
import { DISCOVER_LINE, INITIALIZED_LINE, initializeLine, toolsCallTemplate, toolsListLine } from "./raw-wire.ts"
import { connectStdio, ERAS, type Era } from "./stdio-client.ts"
import { GET_KEY, VALUE } from "./workloads.ts"

const CALLS: ReadonlyArray<Record<string, unknown>> = [{ key: GET_KEY }, { key: "bench:set:1", value: VALUE }]

/** The lines the raw driver writes for: handshake, tools/list, then CALLS as `echo` calls, ids as the SDK numbers them. */
const rawLines = (era: Era): Array<string> => {
  const first = era === "2025-11-25" ? [initializeLine(0), INITIALIZED_LINE] : [DISCOVER_LINE]
  const listId = era === "2025-11-25" ? 1 : 0
  return [
    ...first,
    toolsListLine(era, listId),
    ...CALLS.map((args, k) => toolsCallTemplate(era, "echo", args)(listId + 1 + k))
  ]
}

const captured = async (era: Era, file: string): Promise<Array<string>> => {
  const server = `${JSON.stringify(process.execPath)} ${JSON.stringify(path("bench/servers/sdk-echo.ts"))} v2 stdio`
  const session = await connectStdio(
    { command: "bash", args: ["-c", `tee -a ${JSON.stringify(file)} | ${server}`], env: {} },
    era
  )
  try {
    await session.listTools()
    for (const args of CALLS) await session.call("echo", args)
  } finally {
    await session.close()
  }
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => `${l}\n`)
}

const dir = makeTempDir("raw-parity")
let differences = 0
try {
  for (const era of ERAS) {
    const seen = await captured(era, join(dir, `${era}.in`))
    for (const line of rawLines(era)) {
      const ok = seen.includes(line)
      if (!ok) differences++
      process.stdout.write(`${ok ? "same" : "DIFFERENT"}  ${era}  ${line}`)
    }
    if (differences > 0) process.stdout.write(`the SDK client wrote (${era}):\n${seen.join("")}`)
  }
} finally {
  removeTempDir(dir)
  await stopAll()
}
process.stdout.write(
  differences === 0 ? "raw driver lines: same as the SDK clients'\n" : `${differences} line(s) differ\n`
)
process.exitCode = differences === 0 ? 0 : 1

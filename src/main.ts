#!/usr/bin/env node
/**
 * The launcher (`dist/main.js`, the package's bin). It checks the Node version
 * before anything else loads: its own imports are Node built-ins any Node since
 * 18 can load, so an old Node gets one clear line and exit code 2 instead of a
 * crash or silent misbehaviour deep inside a dependency. Then it bounds V8's
 * young generation (YoungGeneration.ts: some 100 MiB of RSS under load, unless
 * NODE_OPTIONS or the command line chose its size) and the growth of its old one
 * (OldGeneration.ts: some 50 MiB after a busy run, unless the command line chose
 * it), turns on Node's compile cache (failing soft) and imports the program.
 */
import module from "node:module"
import { fileURLToPath } from "node:url"
import { nodeIsAtLeast, unsupportedNode } from "./layers/NodeVersion.ts"
import { boundOldGeneration, oldGenerationChosen } from "./layers/OldGeneration.ts"
import { boundYoungGeneration, youngGenerationChosen } from "./layers/YoungGeneration.ts"

/**
 * Cache V8's compiled code next to the package (`node_modules/.cache/effect-redis-mcp`
 * in its root), so later starts skip most parsing. Only who can write the package
 * can write there, so the cache trusts no one new. A read-only install (systemd's
 * `ProtectSystem=strict`), `NODE_DISABLE_COMPILE_CACHE=1` or an older Node simply run
 * without it; `NODE_COMPILE_CACHE=dir` picks another place.
 */
const enableCompileCache = (): void => {
  try {
    module.enableCompileCache?.(fileURLToPath(new URL("../node_modules/.cache/effect-redis-mcp", import.meta.url)))
  } catch {
    // A cache is an optimisation: without it the server starts all the same.
  }
}

const flushCompileCache = (): void => {
  try {
    module.flushCompileCache?.()
  } catch {
    // As above.
  }
}

if (!nodeIsAtLeast(process.versions.node)) {
  process.stderr.write(unsupportedNode(process.versions.node, process.execPath))
  process.exit(2)
}
if (!youngGenerationChosen(process.execArgv, process.env.NODE_OPTIONS)) boundYoungGeneration()
if (!oldGenerationChosen(process.execArgv)) boundOldGeneration()
enableCompileCache()
await import("./program.ts")
// Write the cache now: an MCP client often kills its server rather than letting it exit.
flushCompileCache()

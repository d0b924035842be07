/**
 * Fixture for harness.test.ts: starts a redis-server, prints "<pid> <dir>",
 * then either exits without any explicit cleanup ("exit") or idles until it
 * is SIGKILLed ("idle"). The harness must not leave the server behind.
 */
import { startRedis } from "../support/standalone.ts"

const handle = await startRedis()
process.stdout.write(`${handle.pid()} ${handle.dir}\n`)
if (process.argv[2] === "exit") process.exit(0)
setInterval(() => {}, 1000)

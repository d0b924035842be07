/**
 * Turns what ioredis throws into the project's tagged errors.
 */
import {
  OutOfMemory,
  PermissionDenied,
  RedisBusy,
  RedisCommandError,
  type RedisError,
  RedisUnavailable,
  Timeout,
  WrongType
} from "../Errors.ts"

const busyReasons = ["LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY"] as const

const connectionPatterns = [
  /Connection is closed/i,
  /Stream isn't writeable/i,
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/,
  /connect ETIMEDOUT/i,
  /Reached the max retries per request limit/i,
  /None of startup nodes is available/i,
  /Failed to refresh slots cache/i,
  /All sentinels are unreachable/i,
  /Connection in subscriber mode/i
]

const hint = "Redis may be restarting or unreachable; retry in a few seconds and check the `health` tool."

/** Map any failure of a Redis call to a tagged error. */
export const toRedisError = (cause: unknown, command: string, timeoutMs: number): RedisError => {
  const message = cause instanceof Error ? cause.message : String(cause)
  const code = message.split(" ", 1)[0] ?? ""
  if (/Command timed out/i.test(message)) {
    return new Timeout({ message: `${command} did not answer within ${timeoutMs} ms. ${hint}`, timeoutMs })
  }
  if (code === "WRONGTYPE") {
    return new WrongType({
      message: `${command}: the key holds a value of another type. Use key_info to see its type.`
    })
  }
  if (code === "NOPERM" || code === "NOAUTH" || code === "WRONGPASS") {
    return new PermissionDenied({
      message: `${command} was refused by Redis (${message}). The configured Redis user lacks the permission; ask an operator or use another tool.`
    })
  }
  if (code === "OOM") {
    return new OutOfMemory({
      message: `${command} was refused: Redis is out of memory (maxmemory reached). Delete keys or ask an operator to raise maxmemory.`
    })
  }
  const busy = busyReasons.find((r) => r === code)
  if (busy !== undefined) {
    return new RedisBusy({ message: `${command}: Redis answered ${busy} (${message}). ${hint}`, reason: busy })
  }
  if (connectionPatterns.some((p) => p.test(message))) {
    return new RedisUnavailable({ message: `${command} could not reach Redis (${message}). ${hint}` })
  }
  return new RedisCommandError({ message: `${command} failed: ${message}` })
}

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
  /Connection in subscriber mode/i,
  /Cluster isn't ready/i,
  /Cluster is ended/i,
  /Node is disconnected/i
]

const hint = "Redis may be restarting or unreachable; retry in a few seconds and check the `health` tool."

/** Map any failure of a Redis call to a tagged error. */
export const toRedisError = (cause: unknown, command: string, timeoutMs: number): RedisError => {
  const message = cause instanceof Error ? cause.message : String(cause)
  // A MULTI refused as a whole names the real reason (NOPERM, OOM…) after this prefix.
  const aborted = /^EXECABORT Transaction discarded because of: (.+)$/s.exec(message)
  if (aborted) return toRedisError(new Error(aborted[1]), command, timeoutMs)
  // A Cluster gave up following redirections (a MOVED/ASK storm, or TRYAGAIN while a slot migrates).
  const redirected = /^Too many Cluster redirections\. Last error: (?:\w*Error: )?(.*)$/s.exec(message)
  if (redirected) {
    const last = toRedisError(new Error(redirected[1]), command, timeoutMs)
    return last._tag === "RedisCommandError"
      ? new RedisUnavailable({
          message: `${command}: the cluster kept redirecting the command (${redirected[1]}); its slot map is changing. ${hint}`
        })
      : last
  }
  const code = message.split(" ", 1)[0] ?? ""
  if (/Command timed out/i.test(message)) {
    return new Timeout({ message: `${command} did not answer within ${timeoutMs} ms. ${hint}`, timeoutMs })
  }
  if (code === "WRONGTYPE") {
    return new WrongType({
      message: `${command}: the key holds a value of another type. Use key_info to see its type.`
    })
  }
  // An ACL refusal inside a Lua script comes back as an ERR naming the script's user.
  if (
    code === "NOPERM" ||
    code === "NOAUTH" ||
    code === "WRONGPASS" ||
    /user executing the script can't run/i.test(message)
  ) {
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
  if (code === "MOVED" || code === "ASK") {
    return new RedisUnavailable({
      message: `${command}: the cluster moved the slot (${message}) and the slot map is being refreshed. ${hint}`
    })
  }
  if (connectionPatterns.some((p) => p.test(message))) {
    return new RedisUnavailable({ message: `${command} could not reach Redis (${message}). ${hint}` })
  }
  return new RedisCommandError({ message: `${command} failed: ${message}` })
}

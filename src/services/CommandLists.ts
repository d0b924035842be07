/**
 * The built-in lists of the command policy: what the raw `command` and `pipeline`
 * tools refuse by default, and what they never run.
 */
import { SCRIPT_COMMANDS } from "./CommandKeys.ts"

/**
 * Refused by default; `REDIS_MCP_COMMAND_DENY` replaces the list, `REDIS_MCP_COMMAND_ALLOW` lifts entries.
 * Scripts (unscoped, and able to block Redis for every client), secrets and other clients' data
 * (CONFIG, ACL, SLOWLOG, CLIENT LIST), whole-keyspace and server administration commands.
 * MONITOR, SYNC and PSYNC are refused with the connection-state commands below.
 */
export const DEFAULT_DENY: ReadonlyArray<string> = [
  ...SCRIPT_COMMANDS,
  "CONFIG",
  "ACL",
  "DEBUG",
  "SLOWLOG",
  "CLIENT LIST",
  "CLIENT KILL",
  "CLIENT PAUSE",
  "CLIENT UNPAUSE",
  "CLIENT UNBLOCK",
  "FLUSHALL",
  "FLUSHDB",
  "KEYS",
  "SWAPDB",
  "MIGRATE",
  "SHUTDOWN",
  "SAVE",
  "BGSAVE",
  "BGREWRITEAOF",
  "MODULE",
  "REPLICAOF",
  "SLAVEOF",
  "REPLCONF",
  "FAILOVER",
  "PFDEBUG",
  "PFSELFTEST",
  "CLUSTER ADDSLOTS",
  "CLUSTER ADDSLOTSRANGE",
  "CLUSTER BUMPEPOCH",
  "CLUSTER DELSLOTS",
  "CLUSTER DELSLOTSRANGE",
  "CLUSTER FAILOVER",
  "CLUSTER FLUSHSLOTS",
  "CLUSTER FORGET",
  "CLUSTER MEET",
  "CLUSTER REPLICATE",
  "CLUSTER RESET",
  "CLUSTER SAVECONFIG",
  "CLUSTER SET-CONFIG-EPOCH",
  "CLUSTER SETSLOT"
]

/** Commands that change the state of the shared connection: never run, whatever the lists say. */
export const CONNECTION_STATE: ReadonlyArray<string> = [
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "MONITOR",
  "SELECT",
  "HELLO",
  "AUTH",
  "QUIT",
  "RESET",
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "SYNC",
  "PSYNC",
  "READONLY",
  "READWRITE",
  "ASKING",
  "CLIENT REPLY",
  "CLIENT TRACKING",
  "CLIENT CACHING",
  "CLIENT SETNAME",
  "CLIENT SETINFO",
  "CLIENT NO-EVICT",
  "CLIENT NO-TOUCH"
]

/** Channels the server itself listens on (logical names): a raw PUBLISH to them would forge its events. */
export const INTERNAL_CHANNELS: ReadonlyArray<string> = ["state:changes", "task:changes"]

/** The tool names TOOLS.md fixes for the default toolsets (keys, task, state). */

export const KEYS_TOOLS = [
  "get",
  "set",
  "mget",
  "mset",
  "del",
  "exists",
  "expire",
  "key_info",
  "rename",
  "incr",
  "scan"
]

export const TASK_TOOLS = [
  "task_create",
  "task_claim",
  "task_heartbeat",
  "task_complete",
  "task_fail",
  "task_get",
  "task_list",
  "task_cancel",
  "queue_stats"
]

export const STATE_TOOLS = [
  "state_get",
  "state_set",
  "state_patch",
  "state_delete",
  "state_list",
  "state_history",
  "lock_acquire",
  "lock_release"
]

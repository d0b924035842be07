/**
 * Reads Prometheus text exposition with a real parser: the official Prometheus
 * Python client's `text_string_to_metric_families` (needs `requireTool("prometheus-client")`).
 */
import { run } from "./tools.ts"

export interface Sample {
  /** The sample's own name: `x_total`, `x_bucket`, `x_sum`, … */
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Family {
  /** The family name; for a counter the client drops the `_total` suffix. */
  readonly name: string
  readonly type: string
  readonly help: string
  readonly samples: ReadonlyArray<Sample>
}

const SCRIPT = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = [{"name": f.name, "type": f.type, "help": f.documentation,
        "samples": [{"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value)}
                    for s in f.samples]}
       for f in text_string_to_metric_families(sys.stdin.read())]
json.dump(out, sys.stdout)
`

/** Parses `text`; throws with the parser's message when it is not valid exposition. */
export const parseExposition = (text: string): ReadonlyArray<Family> => {
  const result = run("prometheus-client", ["-c", SCRIPT], { input: text })
  if (result.status !== 0) throw new Error(`not valid Prometheus text: ${result.stderr}`)
  return JSON.parse(result.stdout) as ReadonlyArray<Family>
}

"""Panel SQL of the customer-service waits, from the raw `chat_events` (docs/events.md,
"Wait and 5-minute reply rate"), for what the `reply_rates` windows cannot say:
one agent's percentiles over a whole range, the distribution of reply times,
the longest waits with their conversation.

A wait, as the streaming job has it: messages of a cs conversation (kind
`chat`, from the customer or a human agent) in the same millisecond are one
step (duplicates change nothing); a step with a customer message starts a
wait when the step before had none, or when it also has an agent message
(that one ends the earlier wait first); the first later step with an agent
message answers it. Its agent is the smallest `agent` the starting customer
messages name (`unassigned` for none), its session theirs. To know whether
the customer was already waiting when the range starts, the steps of the day
before are read too (the job's own `LAG` state lasts a day), and replies up to
the reply bound after the range's end. The thresholds are the streaming job's
defaults (streaming/settings.py).
"""

from __future__ import annotations

from im.envconfig import load
from streaming.settings import StreamSettings

JOB = load(StreamSettings, {})
WITHIN_MS = JOB.reply_within_s * 1000  # answered within (inclusive)
WINDOW_S = JOB.reply_window_s  # the reply-rate windows
LOOKBACK = "INTERVAL 1 DAY"
AGENTS = "$__conditionalAll(agent IN (${agent:sqlstring}), $agent)"

# Columns: conv, session, start (DateTime64(3)), agent, reply_ms (Nullable: not answered
# by the end of what is read), answered (within the bound).
WAITS = f"""SELECT conv, w.3 AS session, fromUnixTimestamp64Milli(w.1, 'UTC') AS start,
         w.2 AS agent, w.4 AS reply_ms, ifNull(reply_ms <= {WITHIN_MS}, 0) AS answered
  FROM (
    SELECT conv, arraySort(groupArray((t, hu, ha, named, sess))) AS steps,
           arrayMap(x -> x.1, steps) AS ts_, arrayMap(x -> x.2, steps) AS hu_,
           arrayReverseFill(x -> x > 0, arrayMap(x -> if(x.3, x.1, 0), steps)) AS agent_at,
           arrayMap(i -> (ts_[i], if(steps[i].4 = '', 'unassigned', steps[i].4), steps[i].5,
                          if(agent_at[i + 1] > 0, agent_at[i + 1] - ts_[i], NULL)),
                    arrayFilter(i -> hu_[i] AND (NOT hu_[i - 1] OR steps[i].3),
                                arrayEnumerate(steps))) AS waits
    FROM (
      SELECT conv, toUnixTimestamp64Milli(ts) AS t,
             max(sender_role = 'user') AS hu, max(sender_role = 'agent') AS ha,
             minIf(agent, sender_role = 'user' AND agent != '') AS named,
             anyIf(session, sender_role = 'user') AS sess
      FROM chat_events
      WHERE conv_kind = 'cs' AND kind = 'chat' AND sender_role IN ('user', 'agent')
        AND ts >= $__fromTime - {LOOKBACK}
        AND ts <= $__toTime + INTERVAL {JOB.reply_within_s} SECOND
      GROUP BY conv, t
    )
    GROUP BY conv
  )
  ARRAY JOIN waits AS w
  WHERE $__timeFilter(start) AND {AGENTS}"""


def waits(columns: str, tail: str = "") -> str:
    """`SELECT columns FROM (the waits started in the range, of the chosen agents) tail`."""
    return f"SELECT {columns}\nFROM (\n  {WAITS}\n)\n{tail}".strip()


# A selection of agents as reply_rates rows: the per-agent rows ('*' is their sum).
RATE_ROWS = f"agent != '*' AND {AGENTS}"

"""Panel SQL of the customer-service waits, from the raw `chat_events` (docs/events.md,
"Wait and 5-minute reply rate"), for what the `reply_rates` windows cannot say: the
first-response time of each session, the longest waits with their conversation.

These panels read at most the last day of the range (`SINCE`), so they
answer quickly whatever range is picked; move the range's end to look at an
earlier day. A wait, as the streaming job has it: messages of a cs conversation (kind
`chat`, from the customer or a human agent) in the same millisecond are one
step (duplicates change nothing); a step with a customer message starts a
wait when the step before had none, or when it also has an agent message
(that one ends the earlier wait first); the first later step with an agent
message answers it. Its agent is the smallest `agent` the starting customer
messages name (`unassigned` for none), its session theirs. Replies are read up
to the reply bound after the range's end. To know whether the customer was
already waiting when the range starts, the hour before is read too
(`LOOKBACK`): the job's `LAG` state lasts a day, but an open cs conversation
is never silent that long (the pipeline closes a session after
IM_SESSION_GAP_S, 10 minutes, without a message, and a closed one takes no
chat), so only a customer silent for over an hour right before the range, in
a session the pipeline failed to close, would be counted as a new wait. An
hour instead of a day halves what these panels read. The thresholds are the
streaming job's defaults (streaming/settings.py).

Over `reply_rates`, `RATE_ROWS` chooses the per-agent rows of the chosen
agents (their sums are the selection's; for All the `*` row's), and
`CHOSEN_ROWS` the `*` rows for All and each chosen agent's rows otherwise
(for what does not add up: percentiles).
"""

from __future__ import annotations

from im.envconfig import load
from streaming.settings import StreamSettings

JOB = load(StreamSettings, {})
WITHIN_MS = JOB.reply_within_s * 1000  # answered within (inclusive)
WINDOW_S = JOB.reply_window_s  # the reply-rate windows
LOOKBACK = "INTERVAL 1 HOUR"  # module docstring
AGENTS = "$__conditionalAll(agent IN (${agent:sqlstring}), $agent)"
SINCE = "greatest($__fromTime, $__toTime - INTERVAL 1 DAY)"  # the raw panels' first second


def _waits(named: bool) -> str:
    """The waits started in the range, of the chosen agents. Columns: conv, session,
    start (DateTime64(3)), reply_ms (Nullable: not answered by the end of what is read),
    answered (within the bound), and with `named` agent (the filter on it). Without,
    session is the hash (`sipHash64`) of the session and no string reaches the arrays
    (strings per step are two fifths of the CPU): the agents filter is a step's `chosen`
    flag, constant for All, when the agent is not even computed. A conversation's steps
    are parallel arrays each sorted by time (numbers as keys: a third less CPU than
    sorting tuples of strings)."""
    sess = "anyIf(session, sender_role = 'user')" if named else (
        "anyIf(sipHash64(session), sender_role = 'user')")  # fmt: skip
    by, last = ("agent", "agent_") if named else ("chosen", "chosen_")
    pick = "w.4 AS agent" if named else "w.4 AS chosen"
    where = AGENTS if named else "chosen"
    return f"""SELECT conv, w.2 AS session, fromUnixTimestamp64Milli(w.1, 'UTC') AS start, {pick},
         w.3 AS reply_ms, ifNull(reply_ms <= {WITHIN_MS}, 0) AS answered
  FROM (
    SELECT conv, groupArray(t) AS tt, arraySort(tt) AS t_,
           arraySort((x, k) -> k, groupArray(hu), tt) AS user_,
           arraySort((x, k) -> k, groupArray(ha), tt) AS replied_,
           arraySort((x, k) -> k, groupArray(sess), tt) AS sess_,
           arraySort((x, k) -> k, groupArray({by}), tt) AS {last},
           arrayPopBack(arrayPushFront(user_, 0)) AS user_before_,
           arrayPopFront(arrayPushBack(arrayReverseFill(x -> x > 0,
             arrayMap((t, a) -> if(a, t, 0), t_, replied_)), 0)) AS agent_after_,
           arrayFilter((w, u, b, a) -> u AND (NOT b OR a),
             arrayMap((t, ss, na, x) -> (t, ss, if(na > 0, na - t, NULL), x),
                      t_, sess_, agent_after_, {last}),
             user_, user_before_, replied_) AS waits
    FROM (
      SELECT conv, t, hu, ha, sess, if(named = '', 'unassigned', named) AS agent{
        "" if named else f",{chr(10)}             {AGENTS} AS chosen"
    }
      FROM (
        SELECT conv, toUnixTimestamp64Milli(ts) AS t,
               max(sender_role = 'user') AS hu, max(sender_role = 'agent') AS ha,
               minIf(agent, sender_role = 'user' AND agent != '') AS named, {sess} AS sess
        FROM chat_events
        WHERE conv_kind = 'cs' AND kind = 'chat' AND sender_role IN ('user', 'agent')
          AND ts >= {SINCE} - {LOOKBACK}
          AND ts <= $__toTime + INTERVAL {JOB.reply_within_s} SECOND
        GROUP BY conv, t
      )
    )
    GROUP BY conv
  )
  ARRAY JOIN waits AS w
  WHERE start >= {SINCE} AND start <= $__toTime AND {where}"""


def waits(columns: str, tail: str = "", named: bool = True) -> str:
    """`SELECT columns FROM (the waits started in the range, of the chosen agents) tail`;
    with `named` False the agent is not a column and the session is a hash (`_waits`)."""
    return f"SELECT {columns}\nFROM (\n  {_waits(named)}\n)\n{tail}".strip()


RATE_ROWS = f"agent != '*' AND {AGENTS}"
CHOSEN_ROWS = f"if($__conditionalAll(0, $agent), agent = '*', {AGENTS})"


BUCKETS = [("0-30 s", 0, 30), ("30-60 s", 30, 60), ("1-2 min", 60, 120), ("2-5 min", 120, 300)]
NONE_MS = 10**15  # a wait never answered, for the buckets


def first_response() -> str:
    """Sessions by the reply time of their first wait, in BUCKETS (upper bounds inclusive),
    then over the bound or never answered."""
    edges = ", ".join(f"('{n}', {lo * 1000}, {hi * 1000})" for n, lo, hi in BUCKETS)
    over = f"('over {JOB.reply_within_s} s or none', {WITHIN_MS}, {NONE_MS})"
    firsts = waits(f"session, argMin(ifNull(reply_ms, {NONE_MS}), start) AS first_ms",
                   "GROUP BY session", named=False)  # fmt: skip
    return (
        "SELECT b.1 AS first_response, countIf(first_ms > b.2 AND first_ms <= b.3) AS sessions\n"
        f"FROM (\n{firsts}\n)\nARRAY JOIN [{edges}, {over}] AS b\nGROUP BY b\nORDER BY b.2"
    )


def longest_waits(n: int = 20) -> str:
    """The n waits that waited longest: the reply time, or at least until the end of what is
    read (the range's end + the bound) when not answered by then."""
    return waits(
        "start, conv, session, agent, reply_ms / 1000 AS reply_s,\n"
        "       ifNull(reply_s, toUnixTimestamp($__toTime) + "
        f"{JOB.reply_within_s} - toUnixTimestamp64Milli(start) / 1000) AS waited_s",
        f"ORDER BY waited_s DESC, start, conv\nLIMIT {n}",
    )

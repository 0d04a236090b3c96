"""Redis key layout, in one place (every key the server writes is named here).

u:{uid}           hash  username, display_name, role, pw (argon2 hash)
uname:{username}  str   uid
tok:{sha256}      hash  uid, role, exp (token hashes only: a Redis dump leaks no token)
utok:{uid}        set   token hashes of the user (revoke all at once)
c:{conv}          hash  kind, title, owner, max_seq
cm:{conv}         set   member uids
uc:{uid}          set   convs of the user
msg:{conv}        hash  seq -> encoded `msg` frame (full history; see README)
dd:{uid}:{cmid}   str   "conv seq ts" of a stored message, 24 h (retry dedup)
unr:{uid}         hash  conv -> unread count, and "total"
rd:{uid}          hash  conv -> read seq
own:{conv}:{uid}  zset  seqs the user sent in conv (to count others' messages on read)
outbox            stream  t (topic), k (key), v (event JSON): the transactional outbox
relay:lease       str   node id holding the outbox relay lease
pr:{uid}          hash  node -> expiry ms: where the user is online (presence)
mute:{uid}        str   muted until (ms), expires by itself
rl:{uid}          hash  token bucket of the user's sending (tokens, at)
slow:{conv}:{uid} str   slow mode: present while the member must wait
frq:{uid}         set   users who asked to be friends with uid
fl:{uid}          hash  friend uid -> direct conv
grp:{gid}         hash  conv, owner, name
cf:{conv}         hash  former member -> last seq they may still read (transferred agent)
cs:{sid}          hash  conv, customer, state, agent, topic, waiting_since, ...
csq               zset  queued sessions by waiting_since
cs:open:{uid}     str   the customer's open session
ag:state          hash  agent -> online/away/offline;  ag:online  set of online agents
ag:load:{uid}     int   active sessions of the agent
"""

from __future__ import annotations


def user(uid: str) -> str:
    return f"u:{uid}"


def username(name: str) -> str:
    return f"uname:{name}"


def token(digest: str) -> str:
    return f"tok:{digest}"


def user_tokens(uid: str) -> str:
    return f"utok:{uid}"


def conv(cid: str) -> str:
    return f"c:{cid}"


def members(cid: str) -> str:
    return f"cm:{cid}"


def user_convs(uid: str) -> str:
    return f"uc:{uid}"


def messages(cid: str) -> str:
    return f"msg:{cid}"


def unread(uid: str) -> str:
    return f"unr:{uid}"


def read_pos(uid: str) -> str:
    return f"rd:{uid}"


def presence(uid: str) -> str:
    return f"pr:{uid}"


def node_channel(node: str) -> str:
    return f"im:node:{node}"


def mute(uid: str) -> str:
    return f"mute:{uid}"


def friend_requests(uid: str) -> str:
    return f"frq:{uid}"


def friends(uid: str) -> str:
    return f"fl:{uid}"


def group(gid: str) -> str:
    return f"grp:{gid}"


OUTBOX = "outbox"
RELAY_LEASE = "relay:lease"
UNREAD_TOTAL_FIELD = "total"

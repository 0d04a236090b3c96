"""Redis key layout, in one place: every key (and pub/sub channel) the server names.

u:{uid}           hash  username, display_name, role, pw (argon2 hash), disabled ("1")
uname:{username}  str   uid
tok:{sha256}      hash  uid, role, exp (token hashes only: a Redis dump leaks no token)
utok:{uid}        zset  token hash -> expiry ms (revoke all at once); expires with the last
admins            set   enabled admins (the last one cannot be demoted or disabled)
admins:indexed    str   present once `admins` was built from the accounts (im/staff.py)
c:{conv}          hash  kind, title, owner, max_seq, last_ts, slow_ms; cs: session, agent, closed
cm:{conv}         set   member uids
uc:{uid}          set   convs of the user
msg:{conv}        hash  seq -> encoded `msg` frame (full history; see README)
dd:{uid}:{conv}:{cmid}  str  "conv seq ts" of a stored message, 24 h (retry dedup)
unr:{uid}         hash  conv -> unread count, and "total"
rd:{uid}          hash  conv -> read seq
own:{conv}:{uid}  zset  seqs the user sent in conv (to count others' messages on read)
outbox            stream  t (topic), k (key), v (event JSON): the transactional outbox
relay:lease       str   node id holding the outbox relay lease
pr:{uid}          hash  node -> expiry ms: where the user is online (presence)
im:node:{node}    pub/sub channel of a node (pushes for its devices)
mute:{uid}        str   muted until (ms), expires by itself
rl:{uid}          hash  token bucket of the user's sending (tokens, at)
slow:{conv}:{uid} str   slow mode: present while the member must wait
ll:u:{username}   int   failed logins of the username in the window (im/loginlimit.py)
ll:a:{address}    int   failed logins from the client address in the window
ll:k:{username}:{address}  int  failed logins of the username from one of its known addresses
ll:ok:{username}  zset  addresses that signed in as the username -> last success ms
rg:a:{address}    int   registrations from the client address in the window (im/quota.py)
rg:total          int   registrations of the whole cluster in the window
cso:{uid}         int   support sessions the customer opened in the window
afe:{address}     int   conn.auth_failed events written for the address this minute
frq:{uid}         set   users who asked to be friends with uid
fl:{uid}          hash  friend uid -> direct conv
grp:{gid}         hash  conv, owner, name
inv:{uid}         hash  invitation id -> "group inviter ts": the user's pending group invitations
blk:{uid}         set   users uid blocked
cf:{conv}         hash  former member -> last seq they may still read (transferred agent)
cs:{sid}          hash  conv, customer, state, agent, topic, waiting_since, ...
csq               zset  queued sessions by waiting_since
cs:open:{uid}     str   the customer's open session
cs:rr             int   round-robin counter of automatic assignment
ag:state          hash  agent -> online/away/offline
ag:online         set   agents marked online
ag:load:{uid}     int   active sessions of the agent
ops:nodes         hash  node id -> JSON {ops_url, started, seen}: live nodes (im/noderegistry.py)
ops:hotkeys:{start}  zset  key -> accesses (estimated, all nodes) in window {start} (epoch s)
al:state          hash  alert fingerprint -> JSON alerts.model.Alert: active and recent alerts
al:lease          str   id of the alert evaluator holding the evaluation lease
al:convs          hash  team (sre, cs) -> the conversation its alerts are posted in
al:cursor         hash  conv -> the last seq the evaluator read for /silence commands
al:pending        hash  notification key -> JSON: notifications stored, not yet delivered
al:silences       hash  alert fingerprint -> JSON {until, by, at}: silences (alerts/silences.py)

Nothing else spells a prefix: Python builds keys with the functions below,
and Lua scripts (im/lua/) with the string locals the loader prepends from
PREFIXES and FIXED (K_CONV = 'c:', K_OUTBOX = 'outbox', ...).
tests/im/test_keys.py fails on a key prefix written anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# Family -> prefix. A key of the family is its prefix + id; a key with two
# ids joins them with ':' (dd:{uid}:{conv}:{cmid}, own:{conv}:{uid}, slow:{conv}:{uid}).
PREFIXES: Final[Mapping[str, str]] = {
    "user": "u:",
    "username": "uname:",
    "token": "tok:",
    "user_tokens": "utok:",
    "conv": "c:",
    "members": "cm:",
    "user_convs": "uc:",
    "messages": "msg:",
    "dedup": "dd:",
    "unread": "unr:",
    "read_pos": "rd:",
    "own_seqs": "own:",
    "presence": "pr:",
    "node_channel": "im:node:",
    "mute": "mute:",
    "rate": "rl:",
    "slow": "slow:",
    "failed_logins_user": "ll:u:",
    "failed_logins_address": "ll:a:",
    "failed_logins_known": "ll:k:",
    "login_addresses": "ll:ok:",
    "registrations_address": "rg:a:",
    "cs_opens": "cso:",
    "auth_failed_events": "afe:",
    "friend_requests": "frq:",
    "friends": "fl:",
    "group": "grp:",
    "invitations": "inv:",
    "blocks": "blk:",
    "former_members": "cf:",
    "session": "cs:",
    "open_session": "cs:open:",
    "agent_load": "ag:load:",
    "hot_keys": "ops:hotkeys:",
}

# Keys that are one fixed name.
FIXED: Final[Mapping[str, str]] = {
    "outbox": "outbox",
    "relay_lease": "relay:lease",
    "cs_queue": "csq",
    "cs_round_robin": "cs:rr",
    "agent_states": "ag:state",
    "agents_online": "ag:online",
    "admins": "admins",
    "admins_indexed": "admins:indexed",
    "registrations_total": "rg:total",
    "nodes": "ops:nodes",
    "alert_state": "al:state",
    "alert_lease": "al:lease",
    "alert_convs": "al:convs",
    "alert_cursor": "al:cursor",
    "alert_pending": "al:pending",
    "alert_silences": "al:silences",
}

OUTBOX: Final = FIXED["outbox"]
RELAY_LEASE: Final = FIXED["relay_lease"]
CS_QUEUE: Final = FIXED["cs_queue"]
CS_ROUND_ROBIN: Final = FIXED["cs_round_robin"]
AGENT_STATES: Final = FIXED["agent_states"]
AGENTS_ONLINE: Final = FIXED["agents_online"]
ADMINS: Final = FIXED["admins"]
ADMINS_INDEXED: Final = FIXED["admins_indexed"]
REGISTRATIONS_TOTAL: Final = FIXED["registrations_total"]
NODES: Final = FIXED["nodes"]
ALERT_STATE: Final = FIXED["alert_state"]
ALERT_LEASE: Final = FIXED["alert_lease"]
ALERT_CONVS: Final = FIXED["alert_convs"]
ALERT_CURSOR: Final = FIXED["alert_cursor"]
ALERT_PENDING: Final = FIXED["alert_pending"]
ALERT_SILENCES: Final = FIXED["alert_silences"]
UNREAD_TOTAL_FIELD: Final = "total"  # a field of unr:{uid}, not a key


def user(uid: str) -> str:
    return f"{PREFIXES['user']}{uid}"


def username(name: str) -> str:
    return f"{PREFIXES['username']}{name}"


def token(digest: str) -> str:
    return f"{PREFIXES['token']}{digest}"


def user_tokens(uid: str) -> str:
    return f"{PREFIXES['user_tokens']}{uid}"


def conv(cid: str) -> str:
    return f"{PREFIXES['conv']}{cid}"


def members(cid: str) -> str:
    return f"{PREFIXES['members']}{cid}"


def user_convs(uid: str) -> str:
    return f"{PREFIXES['user_convs']}{uid}"


def messages(cid: str) -> str:
    return f"{PREFIXES['messages']}{cid}"


def unread(uid: str) -> str:
    return f"{PREFIXES['unread']}{uid}"


def read_pos(uid: str) -> str:
    return f"{PREFIXES['read_pos']}{uid}"


def presence(uid: str) -> str:
    return f"{PREFIXES['presence']}{uid}"


def node_channel(node: str) -> str:
    return f"{PREFIXES['node_channel']}{node}"


def mute(uid: str) -> str:
    return f"{PREFIXES['mute']}{uid}"


def failed_logins_user(name: str) -> str:
    return f"{PREFIXES['failed_logins_user']}{name}"


def failed_logins_address(address: str) -> str:
    return f"{PREFIXES['failed_logins_address']}{address}"


def failed_logins_known(name: str, address: str) -> str:
    return f"{PREFIXES['failed_logins_known']}{name}:{address}"


def login_addresses(name: str) -> str:
    return f"{PREFIXES['login_addresses']}{name}"


def registrations_address(address: str) -> str:
    return f"{PREFIXES['registrations_address']}{address}"


def cs_opens(uid: str) -> str:
    return f"{PREFIXES['cs_opens']}{uid}"


def auth_failed_events(address: str) -> str:
    return f"{PREFIXES['auth_failed_events']}{address}"


def friend_requests(uid: str) -> str:
    return f"{PREFIXES['friend_requests']}{uid}"


def friends(uid: str) -> str:
    return f"{PREFIXES['friends']}{uid}"


def group(gid: str) -> str:
    return f"{PREFIXES['group']}{gid}"


def invitations(uid: str) -> str:
    return f"{PREFIXES['invitations']}{uid}"


def blocks(uid: str) -> str:
    return f"{PREFIXES['blocks']}{uid}"


def former_members(cid: str) -> str:
    return f"{PREFIXES['former_members']}{cid}"


def session(sid: str) -> str:
    return f"{PREFIXES['session']}{sid}"


def open_session(uid: str) -> str:
    return f"{PREFIXES['open_session']}{uid}"


def agent_load(uid: str) -> str:
    return f"{PREFIXES['agent_load']}{uid}"


def hot_keys(window_start: int) -> str:
    return f"{PREFIXES['hot_keys']}{window_start}"

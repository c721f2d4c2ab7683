//! The cluster store's Lua scripts. Each touches the keys of one hash slot only, all named in
//! `KEYS`: a session's scripts its record and tombstone (`P{<hex>}`, `P{<hex>}t`), a user's
//! scripts that user's index (`P{u:<tag>}`). The steps that span slots are sequenced by the
//! store (`ops.rs`), in an order whose every intermediate state is safe.

use std::sync::LazyLock;

use redis::Script;

use super::super::redis::APPLY_LUA;

/// Helpers every session script may use.
const LIB: &str = r"
-- A move (rotation) begun more than this many microseconds ago, and never finished, is
-- taken as failed: the record reads as ended.
local LEASE = 30000000
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
-- A record being moved to a new key (`mv`), or a new one not yet committed (`pend`),
-- takes no writes: the move wins, as it does on a single server.
local function busy(key)
  local f = redis.call('HMGET', key, 'mv', 'pend')
  return f[1] or f[2]
end
local function now_text()
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2]))
end
local function stale(key)
  local t = redis.call('HGET', key, 'mvt')
  return t and now_us() - tonumber(t) > LEASE
end
-- After the expiry moved to `exp`: 2 if a logged-in session now outlives the time its
-- user's index is kept until (`ixp`), so the store must extend that index; else 1.
local function grow(key, exp)
  local f = redis.call('HMGET', key, 'uid', 'ixp')
  if f[1] and tonumber(exp) > tonumber(f[2] or '0') then
    redis.call('HSET', key, 'ixp', exp)
    return 2
  end
  return 1
end
";

/// Helpers of the user index's scripts.
const USER_LIB: &str = r"
-- Keeps the index at least until `at` (milliseconds since the epoch).
local function keep(key, at)
  local left = redis.call('PTTL', key)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if left < 0 or now + left < tonumber(at) then redis.call('PEXPIREAT', key, at) end
end
";

fn session(body: &str) -> Script {
    Script::new(&format!("{LIB}\n{APPLY_LUA}\n{body}"))
}

fn user(body: &str) -> Script {
    Script::new(&format!("{USER_LIB}\n{body}"))
}

/// KEYS: record, tombstone. ARGV: exp, ixp, then hash name/value pairs. 1 made, 0 taken.
pub(super) static CREATE: LazyLock<Script> = LazyLock::new(|| {
    session(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'ixp', ARGV[2], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
",
    )
});

/// KEYS: record. ARGV: seen (''), exp (''), removals count, removals, pairs.
/// 0 missing (or moving), 1 done, 2 done and the user's index must last until `exp`.
pub(super) static UPDATE: LazyLock<Script> = LazyLock::new(|| {
    session(
        r"
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 or busy(key) then return 0 end
apply(key, 3)
redis.call('HINCRBY', key, 'ver', 1)
if ARGV[1] ~= '' then redis.call('HSET', key, 'seen', ARGV[1]) end
if ARGV[2] ~= '' then
  redis.call('HSET', key, 'exp', ARGV[2])
  redis.call('PEXPIREAT', key, ARGV[2])
  return grow(key, ARGV[2])
end
return 1
",
    )
});

/// KEYS: record. ARGV: seen, exp. As [`UPDATE`].
pub(super) static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    session(
        r"
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 or busy(key) then return 0 end
redis.call('HSET', key, 'seen', ARGV[1], 'exp', ARGV[2])
redis.call('PEXPIREAT', key, ARGV[2])
return grow(key, ARGV[2])
",
    )
});

/// KEYS: record, tombstone. ARGV: the user it must belong to ('' any), '1' to leave a
/// tombstone when it is missing, the channel of ended sessions. {'0'}, or {'1', pid, uid,
/// mv, pend} once deleted: `mv` the record it was being moved to, `pend` the one it was
/// being moved from. A deletion publishes the public id on the channel (every node of the
/// cluster relays it), for the waiters of every instance.
///
/// The tombstone (a minute long) makes a create or a move onto this key fail: a deletion
/// driven by an index entry whose record is not there yet (a login between its two steps)
/// wins over the record that was about to be written.
pub(super) static KILL: LazyLock<Script> = LazyLock::new(|| {
    session(
        r"
local f = redis.call('HMGET', KEYS[1], 'pid', 'uid', 'mv', 'pend')
if not f[1] then
  if ARGV[2] == '1' then redis.call('SET', KEYS[2], '1', 'PX', 60000) end
  return {'0'}
end
if ARGV[1] ~= '' and f[2] ~= ARGV[1] then return {'0'} end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[3], f[1])
return {'1', f[1], f[2] or '', f[3] or '', f[4] or ''}
",
    )
});

/// KEYS: record. ARGV: now, the channel of ended sessions. {'0'} missing, {'1', pid, uid}
/// deleted (expired at `now`, or a move that never finished; published as [`KILL`] does),
/// {'2', exp} live until `exp`.
pub(super) static SWEEP_ONE: LazyLock<Script> = LazyLock::new(|| {
    session(
        r"
local f = redis.call('HMGET', KEYS[1], 'pid', 'uid', 'exp', 'mv')
if not f[1] then return {'0'} end
if tonumber(f[3]) <= tonumber(ARGV[1]) or stale(KEYS[1]) then
  redis.call('DEL', KEYS[1])
  -- A record moved away is not the session any more (which may live on, same public id,
  -- under the key it moved to): its deletion is no end.
  if not f[4] then redis.call('PUBLISH', ARGV[2], f[1]) end
  return {'1', f[1], f[2] or ''}
end
return {'2', f[3]}
",
    )
});

/// KEYS: old record. ARGV: new hex. Marks the record as moving there and returns its hash
/// (`HGETALL`), or nothing if it is missing or already moving.
pub(super) static BEGIN: LazyLock<Script> = LazyLock::new(|| {
    session(
        r"
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 or busy(key) then return {} end
redis.call('HSET', key, 'mv', ARGV[1], 'mvt', now_text())
return redis.call('HGETALL', key)
",
    )
});

/// KEYS: new record, its tombstone. ARGV: old hex, seen (''), exp (''), copied pairs count,
/// copied pairs, then the update (removals count, removals, pairs). Writes the new record,
/// pending (`pend`) until [`COMMIT`]. 0 key taken, -1 tombstoned (the session was ended
/// meanwhile), 1 done, 2 done and the user's index must be extended.
pub(super) static PUT: LazyLock<Script> = LazyLock::new(|| {
    session(
        r"
local key = KEYS[1]
if redis.call('EXISTS', key) == 1 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local n = tonumber(ARGV[4])
redis.call('HSET', key, 'pend', ARGV[1], unpack(ARGV, 5, 4 + 2 * n))
apply(key, 5 + 2 * n)
redis.call('HINCRBY', key, 'ver', 1)
if ARGV[2] ~= '' then redis.call('HSET', key, 'seen', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', key, 'exp', ARGV[3]) end
local exp = redis.call('HGET', key, 'exp')
redis.call('PEXPIREAT', key, exp)
return grow(key, exp)
",
    )
});

/// KEYS: new record. ARGV: old hex. Makes a [`PUT`] record live; 0 if it was deleted.
pub(super) static COMMIT: LazyLock<Script> = LazyLock::new(|| {
    session(
        r"
if redis.call('HGET', KEYS[1], 'pend') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'pend')
return 1
",
    )
});

/// KEYS: old record. ARGV: new hex. Deletes the moved record; 0 if it is no longer moving
/// there (deleted meanwhile).
pub(super) static FINISH: LazyLock<Script> = LazyLock::new(|| {
    session(
        r"
if redis.call('HGET', KEYS[1], 'mv') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
",
    )
});

/// KEYS: old record. ARGV: new hex. Calls off a move that could not be made.
pub(super) static ABORT: LazyLock<Script> = LazyLock::new(|| {
    session(
        r"
if redis.call('HGET', KEYS[1], 'mv') == ARGV[1] then redis.call('HDEL', KEYS[1], 'mv', 'mvt') end
return 1
",
    )
});

/// KEYS: user index. ARGV: pid, hex, keep-until. Enters the session under its public id:
/// 0 if the id is another session's, 1 entered, 2 it already was.
pub(super) static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    user(
        r"
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cur ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
keep(KEYS[1], ARGV[3])
if cur then return 2 end
return 1
",
    )
});

/// KEYS: user index. ARGV: pid, hex. Removes the entry if it still names that session.
pub(super) static UNINDEX: LazyLock<Script> = LazyLock::new(|| {
    user(
        r"
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
",
    )
});

/// KEYS: user index. ARGV: pid, old hex, new hex, keep-until. Points the public id at the
/// moved session; 0 if it no longer named the old one (revoked meanwhile).
pub(super) static REPOINT: LazyLock<Script> = LazyLock::new(|| {
    user(
        r"
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
keep(KEYS[1], ARGV[4])
return 1
",
    )
});

/// KEYS: user index. ARGV: keep-until.
pub(super) static EXTEND: LazyLock<Script> = LazyLock::new(|| {
    user(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then keep(KEYS[1], ARGV[1]) end
return 1
",
    )
});

//! [`SessionStore`] on the cluster: each method as the sequence of one-slot steps that the
//! module documentation describes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use redis::{Script, ToRedisArgs};
use sha2::{Digest as _, Sha256};

use super::super::codec::{hash_fields, record_from_hash};
use super::super::redis::{INFO_FIELDS, backend, info_from_row, ms, opt_ms, update_args};
use super::scripts::{
    ABORT, BEGIN, CLAIM, COMMIT, CREATE, EXTEND, FINISH, KILL, PUT, REPOINT, SWEEP_ONE, TOUCH,
    UNINDEX, UPDATE,
};
use super::{RedisClusterStore, SessionStore, StoreError, StoreOp};
use crate::ends::SessionEnds;
use crate::record::{Record, SessionInfo, Update};
use crate::store::deadline::bounded;
use crate::token::{PublicId, SessionKey};

/// How many expired sessions one sweep reads from an expiry set at a time.
const SWEEP_BATCH: usize = 200;
/// How long a rotation may stay unfinished before its old record reads as ended (the
/// scripts' `LEASE`).
const MOVE_LEASE: Duration = Duration::from_secs(30);
/// Hash fields of a rotation in flight, never copied to the new record.
const MOVE_FIELDS: [&str; 3] = ["mv", "mvt", "pend"];

/// What deleting a record found.
struct Killed {
    existed: bool,
    pid: String,
    uid: String,
    moving_to: String,
    moving_from: String,
}

impl RedisClusterStore {
    fn record_key(&self, hex: &str) -> String {
        format!("{}{{{hex}}}", self.inner.prefix)
    }

    fn tomb_key(&self, hex: &str) -> String {
        format!("{}{{{hex}}}t", self.inner.prefix)
    }

    fn user_key(&self, user_id: &str) -> String {
        self.user_key_of_tag(&user_tag(user_id))
    }

    fn user_key_of_tag(&self, tag: &str) -> String {
        format!("{}{{u:{tag}}}", self.inner.prefix)
    }

    fn bucket_key(&self, c: char) -> String {
        format!("{}{{x:{c}}}", self.inner.prefix)
    }

    fn bucket_of(&self, hex: &str) -> String {
        self.bucket_key(hex.chars().next().unwrap_or('0'))
    }

    /// Runs a script on the slot of `keys` (all of one slot).
    async fn run<T: redis::FromRedisValue>(
        &self,
        op: StoreOp,
        script: &Script,
        keys: &[&str],
        args: &[&[u8]],
    ) -> Result<T, StoreError> {
        let mut conn = self.inner.conn.clone();
        let mut call = script.prepare_invoke();
        for key in keys {
            call.key(*key);
        }
        for arg in args {
            call.arg(*arg);
        }
        bounded(op, self.inner.command_timeout, async {
            call.invoke_async(&mut conn)
                .await
                .map_err(|e| backend(op, e))
        })
        .await
    }

    /// Runs one command.
    async fn cmd<T: redis::FromRedisValue>(
        &self,
        op: StoreOp,
        name: &str,
        args: impl ToRedisArgs,
    ) -> Result<T, StoreError> {
        let mut conn = self.inner.conn.clone();
        let mut cmd = redis::cmd(name);
        cmd.arg(args);
        bounded(op, self.inner.command_timeout, async {
            cmd.query_async(&mut conn).await.map_err(|e| backend(op, e))
        })
        .await
    }

    /// Deletes a record (only if it is `owner`'s, when given); with `tombstone`, a missing
    /// record is tombstoned.
    async fn kill(
        &self,
        op: StoreOp,
        hex: &str,
        owner: &str,
        tombstone: bool,
    ) -> Result<Killed, StoreError> {
        let flag: &[u8] = if tombstone { b"1" } else { b"" };
        let found: Vec<String> = self
            .run(
                op,
                &KILL,
                &[&self.record_key(hex), &self.tomb_key(hex)],
                &[owner.as_bytes(), flag, self.inner.channel.as_bytes()],
            )
            .await?;
        let mut found = found.into_iter();
        let existed = found.next().as_deref() == Some("1");
        let mut next = || found.next().unwrap_or_default();
        Ok(Killed {
            existed,
            pid: next(),
            uid: next(),
            moving_to: next(),
            moving_from: next(),
        })
    }

    async fn unindex(
        &self,
        op: StoreOp,
        uid: &str,
        pid: &str,
        hex: &str,
    ) -> Result<(), StoreError> {
        self.unindex_at(op, &self.user_key(uid), pid, hex).await
    }

    /// Removes the entry `pid` of the user index `index` if it still names `hex`.
    async fn unindex_at(
        &self,
        op: StoreOp,
        index: &str,
        pid: &str,
        hex: &str,
    ) -> Result<(), StoreError> {
        let _: i64 = self
            .run(op, &UNINDEX, &[index], &[pid.as_bytes(), hex.as_bytes()])
            .await?;
        Ok(())
    }

    /// Ends a session: its record, then its index entry, then the other record of a rotation
    /// in flight, if any (a deletion wins over a rotation: neither the record it was moving
    /// to nor, for a new record not yet live, the one it was moving from stays). Whether the
    /// record existed.
    async fn end(
        &self,
        op: StoreOp,
        hex: &str,
        owner: &str,
        tombstone: bool,
    ) -> Result<bool, StoreError> {
        let killed = self.kill(op, hex, owner, tombstone).await?;
        if !killed.existed {
            return Ok(false);
        }
        if !killed.uid.is_empty() {
            self.unindex(op, &killed.uid, &killed.pid, hex).await?;
        }
        for other in [&killed.moving_to, &killed.moving_from] {
            if other.is_empty() {
                continue;
            }
            let next = self.kill(op, other, "", true).await?;
            if next.existed && !killed.uid.is_empty() {
                self.unindex(op, &killed.uid, &killed.pid, other).await?;
            }
        }
        Ok(true)
    }

    /// Ends the session an index entry names, and removes the entry whether or not its
    /// record was still there (the repair of a step that failed).
    async fn end_indexed(
        &self,
        op: StoreOp,
        user_id: &str,
        pid: &str,
        hex: &str,
    ) -> Result<bool, StoreError> {
        let existed = self.end(op, hex, user_id, true).await?;
        if !existed {
            self.unindex(op, user_id, pid, hex).await?;
        }
        Ok(existed)
    }

    /// The user's index: public id → record hex.
    async fn index(&self, user_id: &str) -> Result<HashMap<String, String>, StoreError> {
        self.cmd(StoreOp::PerUser, "HGETALL", self.user_key(user_id))
            .await
    }

    /// After a write answered 2: keeps the record's user index until `exp`.
    async fn extend_index(&self, op: StoreOp, hex: &str, exp: &[u8]) -> Result<(), StoreError> {
        let uid: Option<String> = self.cmd(op, "HGET", (self.record_key(hex), "uid")).await?;
        if let Some(uid) = uid {
            let _: i64 = self
                .run(op, &EXTEND, &[&self.user_key(&uid)], &[exp])
                .await?;
        }
        Ok(())
    }

    /// The rotation's steps after the old record was marked as moving (`fields`, its hash).
    async fn move_record(
        &self,
        old: &str,
        new: &str,
        update: &Update,
        fields: HashMap<String, String>,
    ) -> Result<bool, StoreError> {
        let op = StoreOp::Rotate;
        let (pid, uid) = (fields.get("pid").cloned(), fields.get("uid").cloned());
        let exp = match update.expires_at {
            Some(at) => ms(at),
            None => fields.get("exp").cloned().unwrap_or_default().into_bytes(),
        };
        let ixp = fields
            .get("ixp")
            .map_or_else(|| exp.clone(), |v| v.clone().into_bytes());
        let copied: Vec<(String, String)> = fields
            .into_iter()
            .filter(|(name, _)| !MOVE_FIELDS.contains(&name.as_str()))
            .collect();
        let user = uid.as_deref().zip(pid.as_deref());
        let member = expiry_member(new, user);
        let _: i64 = self
            .cmd(op, "ZADD", (self.bucket_of(new), &exp, member))
            .await?;

        let (seen, set_exp) = (opt_ms(update.last_seen), opt_ms(update.expires_at));
        let count = copied.len().to_string();
        let rest = update_args(update);
        let mut args: Vec<&[u8]> = vec![old.as_bytes(), &seen, &set_exp, count.as_bytes()];
        for (name, value) in &copied {
            args.push(name.as_bytes());
            args.push(value.as_bytes());
        }
        args.extend(rest.iter().map(Vec::as_slice));
        let put: i64 = self
            .run(
                op,
                &PUT,
                &[&self.record_key(new), &self.tomb_key(new)],
                &args,
            )
            .await?;
        match put {
            0 => {
                let _: i64 = self
                    .run(op, &ABORT, &[&self.record_key(old)], &[new.as_bytes()])
                    .await?;
                return Err(StoreError::Conflict);
            }
            -1 => {
                // Tombstoned: a deletion that followed the move got there first.
                self.end(op, old, "", false).await?;
                return Ok(false);
            }
            2 => {
                if let Some(uid) = &uid {
                    let _: i64 = self
                        .run(op, &EXTEND, &[&self.user_key(uid)], &[&exp])
                        .await?;
                }
            }
            _ => {}
        }
        if let (Some(uid), Some(pid)) = (&uid, &pid) {
            let keep = longest(&ixp, &exp);
            let pointed: i64 = self
                .run(
                    op,
                    &REPOINT,
                    &[&self.user_key(uid)],
                    &[pid.as_bytes(), old.as_bytes(), new.as_bytes(), keep],
                )
                .await?;
            if pointed == 0 {
                // Revoked meanwhile: the revocation wins (ending the old record ends the new
                // one it was moving to).
                self.end(op, old, "", false).await?;
                self.kill(op, new, "", true).await?;
                return Ok(false);
            }
        }
        let live: i64 = self
            .run(op, &COMMIT, &[&self.record_key(new)], &[old.as_bytes()])
            .await?;
        let finished: i64 = if live == 1 {
            self.run(op, &FINISH, &[&self.record_key(old)], &[new.as_bytes()])
                .await?
        } else {
            0
        };
        if finished == 0 {
            // The old record (or the new) was deleted meanwhile: that deletion wins.
            self.end(op, new, "", true).await?;
            self.end(op, old, "", false).await?;
            return Ok(false);
        }
        Ok(true)
    }
}

/// The tag of a user's index: the first 128 bits of the user id's SHA-256, in hex.
fn user_tag(user_id: &str) -> String {
    let digest = Sha256::digest(user_id.as_bytes());
    let mut tag = String::with_capacity(32);
    for b in &digest[..16] {
        let _ = write!(tag, "{b:02x}");
    }
    tag
}

/// A session's member in its expiry set: `<hex>`, or `<hex>:<user tag>:<public id>` for a
/// logged-in one, so that the sweep can remove the index entry of a session that the server
/// already expired (its record, with the user id, is gone by then).
fn expiry_member(hex: &str, user: Option<(&str, &str)>) -> String {
    match user {
        Some((user_id, pid)) => format!("{hex}:{}:{pid}", user_tag(user_id)),
        None => hex.to_owned(),
    }
}

/// The hex and, for a logged-in session, the user tag and public id of an [`expiry_member`].
fn parse_member(member: &str) -> (&str, Option<(&str, &str)>) {
    let (hex, rest) = member.split_at(member.len().min(64));
    let user = rest
        .strip_prefix(':')
        .and_then(|rest| rest.split_once(':'))
        .filter(|(tag, _)| tag.len() == 32);
    (hex, user)
}

/// The later of two times written as decimal milliseconds.
fn longest<'a>(a: &'a [u8], b: &'a [u8]) -> &'a [u8] {
    if (a.len(), a) >= (b.len(), b) { a } else { b }
}

/// Whether a record whose move began at `mvt` (microseconds, the server's clock) is past its
/// lease by this machine's clock.
fn move_is_stale(mvt: Option<&String>) -> bool {
    let Some(began) = mvt.and_then(|t| t.parse::<u128>().ok()) else {
        return false;
    };
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    now.saturating_sub(began) > MOVE_LEASE.as_micros()
}

impl SessionStore for RedisClusterStore {
    async fn load(&self, key: &SessionKey, now: SystemTime) -> Result<Option<Record>, StoreError> {
        let hash: HashMap<String, String> = self
            .cmd(StoreOp::Load, "HGETALL", self.record_key(&key.to_hex()))
            .await?;
        if hash.is_empty() || hash.contains_key("pend") || move_is_stale(hash.get("mvt")) {
            return Ok(None);
        }
        let record = record_from_hash(hash)?;
        Ok((!record.is_expired(now)).then_some(record))
    }

    async fn create(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError> {
        let op = StoreOp::Create;
        let hex = key.to_hex();
        let pid = record.public_id.as_str();
        let exp = ms(record.expires_at);
        let ixp = ms(record.expires_at.max(record.absolute_expires_at));
        let member = expiry_member(&hex, record.user_id.as_deref().map(|u| (u, pid)));
        let _: i64 = self
            .cmd(op, "ZADD", (self.bucket_of(&hex), &exp, member))
            .await?;
        let mut claimed = 0;
        if let Some(uid) = &record.user_id {
            claimed = self
                .run(
                    op,
                    &CLAIM,
                    &[&self.user_key(uid)],
                    &[pid.as_bytes(), hex.as_bytes(), &ixp],
                )
                .await?;
            if claimed == 0 {
                return Err(StoreError::Conflict);
            }
        }
        let pairs = hash_fields(record);
        let mut args: Vec<&[u8]> = vec![&exp, &ixp];
        for (name, value) in &pairs {
            args.push(name.as_bytes());
            args.push(value);
        }
        let made: i64 = self
            .run(
                op,
                &CREATE,
                &[&self.record_key(&hex), &self.tomb_key(&hex)],
                &args,
            )
            .await?;
        if made == 1 {
            return Ok(());
        }
        if let (1, Some(uid)) = (claimed, &record.user_id) {
            self.unindex(op, uid, pid, &hex).await?;
        }
        Err(StoreError::Conflict)
    }

    async fn update(&self, key: &SessionKey, update: &Update) -> Result<bool, StoreError> {
        let hex = key.to_hex();
        let (seen, exp) = (opt_ms(update.last_seen), opt_ms(update.expires_at));
        let rest = update_args(update);
        let mut args: Vec<&[u8]> = vec![&seen, &exp];
        args.extend(rest.iter().map(Vec::as_slice));
        let done: i64 = self
            .run(StoreOp::Update, &UPDATE, &[&self.record_key(&hex)], &args)
            .await?;
        if done == 2 {
            self.extend_index(StoreOp::Update, &hex, &exp).await?;
        }
        Ok(done >= 1)
    }

    async fn rotate(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        update: &Update,
    ) -> Result<bool, StoreError> {
        let (old, new) = (old.to_hex(), new.to_hex());
        let fields: HashMap<String, String> = self
            .run(
                StoreOp::Rotate,
                &BEGIN,
                &[&self.record_key(&old)],
                &[new.as_bytes()],
            )
            .await?;
        if fields.is_empty() {
            return Ok(false);
        }
        self.move_record(&old, &new, update, fields).await
    }

    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        let hex = key.to_hex();
        let (seen, exp) = (ms(last_seen), ms(expires_at));
        let done: i64 = self
            .run(
                StoreOp::Touch,
                &TOUCH,
                &[&self.record_key(&hex)],
                &[&seen, &exp],
            )
            .await?;
        if done == 2 {
            self.extend_index(StoreOp::Touch, &hex, &exp).await?;
        }
        Ok(done >= 1)
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        self.end(StoreOp::Delete, &key.to_hex(), "", false).await
    }

    async fn list_user(
        &self,
        user_id: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let op = StoreOp::PerUser;
        let mut sessions = Vec::new();
        for (pid, hex) in self.index(user_id).await? {
            let mut row: Vec<Option<String>> = self
                .cmd(
                    op,
                    "HMGET",
                    (self.record_key(&hex), &INFO_FIELDS[..], "mvt"),
                )
                .await?;
            if row.first().is_none_or(Option::is_none) {
                // An entry whose record is gone (a failed step, or expired by the server).
                self.end_indexed(op, user_id, &pid, &hex).await?;
                continue;
            }
            if move_is_stale(row.pop().flatten().as_ref()) {
                continue; // reads as ended
            }
            let info = info_from_row(row)?;
            let ours = info.user_id.as_deref() == Some(user_id) && info.public_id.as_str() == pid;
            if ours && info.expires_at > now {
                sessions.push(info);
            }
        }
        sessions.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
        Ok(sessions)
    }

    async fn delete_user(
        &self,
        user_id: &str,
        keep: Option<&SessionKey>,
    ) -> Result<u64, StoreError> {
        let keep = keep.map(SessionKey::to_hex).unwrap_or_default();
        let mut n = 0;
        for (pid, hex) in self.index(user_id).await? {
            if hex != keep
                && self
                    .end_indexed(StoreOp::PerUser, user_id, &pid, &hex)
                    .await?
            {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn delete_public(&self, user_id: &str, public_id: &PublicId) -> Result<bool, StoreError> {
        let op = StoreOp::PerUser;
        let pid = public_id.as_str();
        let hex: Option<String> = self.cmd(op, "HGET", (self.user_key(user_id), pid)).await?;
        match hex {
            Some(hex) => self.end_indexed(op, user_id, pid, &hex).await,
            None => Ok(false),
        }
    }

    async fn sweep(&self, now: SystemTime) -> Result<u64, StoreError> {
        let op = StoreOp::Sweep;
        let now_ms = ms(now);
        let mut deleted = 0;
        for c in "0123456789abcdef".chars() {
            let bucket = self.bucket_key(c);
            loop {
                let members: Vec<String> = self
                    .cmd(
                        op,
                        "ZRANGEBYSCORE",
                        (&bucket, "-inf", &now_ms, "LIMIT", 0, SWEEP_BATCH),
                    )
                    .await?;
                for member in &members {
                    let (hex, user) = parse_member(member);
                    let found: Vec<String> = self
                        .run(
                            op,
                            &SWEEP_ONE,
                            &[&self.record_key(hex)],
                            &[&now_ms, self.inner.channel.as_bytes()],
                        )
                        .await?;
                    match (found.first().map(String::as_str), user) {
                        (Some("1"), _) => {
                            deleted += 1;
                            if let (Some(pid), Some(uid)) = (found.get(1), found.get(2))
                                && !uid.is_empty()
                            {
                                self.unindex(op, uid, pid, hex).await?;
                            }
                        }
                        (Some("2"), _) => {
                            // Still live: its touches moved its expiry past the set's score.
                            let exp = found.get(1).cloned().unwrap_or_default();
                            let _: i64 = self.cmd(op, "ZADD", (&bucket, exp, member)).await?;
                            continue;
                        }
                        // Expired by the server: its index entry is left to remove.
                        (_, Some((tag, pid))) => {
                            self.unindex_at(op, &self.user_key_of_tag(tag), pid, hex)
                                .await?;
                        }
                        _ => {}
                    }
                    let _: i64 = self.cmd(op, "ZREM", (&bucket, member)).await?;
                }
                if members.len() < SWEEP_BATCH {
                    break;
                }
            }
        }
        Ok(deleted)
    }

    fn session_ends(&self) -> Option<&Arc<SessionEnds>> {
        Some(&self.inner.ends)
    }
}

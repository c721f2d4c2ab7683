//! Session fields in memory: the stored fields, packed and shared ([`Fields`]), and one
//! request's view of them with its own changes on top ([`Data`]).
//!
//! Loading a session from the memory store clones one `Arc`: the request reads the store's
//! own packed copy, and only the fields it changes are owned by the request.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

/// Fields as one shared string: for each field, the name's and the value's length in
/// decimal, each followed by a comma, then the name and the value (`1,64,d"…"`), sorted by
/// name. A string, so that reading it back needs no UTF-8 validation. No fields: no
/// allocation.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Fields(Option<Arc<str>>);

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Fields {
    /// Packs fields given in name order.
    pub(crate) fn pack<'a>(fields: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        packed(|out| {
            for (name, value) in fields {
                push_field(out, name, value);
            }
        })
    }

    /// Packs a map.
    pub(crate) fn from_map(map: &BTreeMap<String, String>) -> Self {
        Self::pack(map.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }

    /// The fields, in name order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        unpack(self.0.as_deref().unwrap_or_default())
    }

    /// One field's value.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The fields as an owned map.
    pub(crate) fn to_map(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        for (name, value) in self.iter() {
            map.insert(name.to_owned(), value.to_owned());
        }
        map
    }

    /// These fields with `set` written over them and `remove` taken out; `set` in name
    /// order. A field both removed and set ends up set.
    pub(crate) fn merged<'a>(
        &self,
        set: impl Iterator<Item = (&'a str, &'a str)>,
        remove: impl Fn(&str) -> bool,
    ) -> Self {
        packed(|out| {
            let mut sets = set.peekable();
            for (name, packed) in segments(self.0.as_deref().unwrap_or_default()) {
                while let Some((n, v)) = sets.next_if(|(n, _)| *n < name) {
                    push_field(out, n, v);
                }
                if let Some((_, v)) = sets.next_if(|(n, _)| *n == name) {
                    push_field(out, name, v);
                } else if !remove(name) {
                    // Unchanged: copied as it is packed, lengths and all.
                    out.push_str(packed);
                }
            }
            for (n, v) in sets {
                push_field(out, n, v);
            }
        })
    }

    /// Heap bytes held (shared with every other holder of these fields): more than the
    /// fields' names and values, which it holds with their lengths.
    pub(crate) fn packed_len(&self) -> usize {
        self.0.as_deref().map_or(0, str::len)
    }
}

/// The most capacity the packing buffer keeps between uses.
const SCRATCH_KEEP: usize = 64 * 1024;

thread_local! {
    /// Where fields are packed before they are shared: the shared copy is then the only
    /// allocation a save makes.
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// The fields that `write` packs, as one shared string; no fields, no allocation.
///
/// The buffer is taken out of the thread's slot while in use, so a thread being torn down
/// (no slot) simply packs into a buffer of its own.
fn packed(write: impl FnOnce(&mut String)) -> Fields {
    let mut out = SCRATCH.try_with(Cell::take).unwrap_or_default();
    out.clear();
    write(&mut out);
    let fields = Fields((!out.is_empty()).then(|| Arc::from(out.as_str())));
    if out.capacity() <= SCRATCH_KEEP {
        let _ = SCRATCH.try_with(|scratch| scratch.set(out));
    }
    fields
}

fn push_field(out: &mut String, name: &str, value: &str) {
    push_length(out, name.len());
    push_length(out, value.len());
    out.push_str(name);
    out.push_str(value);
}

/// `n` in decimal and a comma (with `itoa`, not the formatting machinery: this runs on
/// every save).
fn push_length(out: &mut String, n: usize) {
    out.push_str(itoa::Buffer::new().format(n));
    out.push(',');
}

/// A decimal length and the comma after it, at the start of `s`; and the rest of `s`. One
/// pass: this runs for every field on every read of packed fields.
fn length(s: &str) -> Option<(usize, &str)> {
    let mut n = 0usize;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b == b',' {
            return Some((n, s.get(i + 1..)?));
        }
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(usize::from(digit))?;
    }
    None
}

/// The fields of a string made by [`Fields::pack`].
fn unpack(mut data: &str) -> impl Iterator<Item = (&str, &str)> {
    std::iter::from_fn(move || {
        let (name, value, rest) = field(data)?;
        data = rest;
        Some((name, value))
    })
}

/// The fields of a string made by [`Fields::pack`]: each one's name, and the field as it
/// is packed (lengths, name and value), to be copied whole.
fn segments(mut data: &str) -> impl Iterator<Item = (&str, &str)> {
    std::iter::from_fn(move || {
        let (name, _, rest) = field(data)?;
        let packed = data.get(..data.len() - rest.len())?;
        data = rest;
        Some((name, packed))
    })
}

/// The first field packed in `data`: its name, its value, and what follows it.
fn field(data: &str) -> Option<(&str, &str, &str)> {
    let (name_len, rest) = length(data)?;
    let (value_len, rest) = length(rest)?;
    let end = name_len.checked_add(value_len)?;
    Some((
        rest.get(..name_len)?,
        rest.get(name_len..end)?,
        rest.get(end..)?,
    ))
}

/// A request's fields: the stored ones, and this request's changes over them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Data {
    base: Fields,
    /// Fields written or removed by this request, each name once: a request changes a
    /// field or two, which fit inline.
    changes: SmallVec<[Change; 2]>,
}

/// One field a request wrote or removed.
#[derive(Debug, Clone)]
struct Change {
    name: Cow<'static, str>,
    /// The new value; `None`: removed.
    value: Option<String>,
    /// Not yet written to the store.
    unsaved: bool,
}

impl Data {
    /// The stored fields, unchanged.
    pub(crate) fn new(base: Fields) -> Self {
        Self {
            base,
            changes: SmallVec::new(),
        }
    }

    fn change(&self, name: &str) -> Option<&Option<String>> {
        self.changes
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.value)
    }

    /// One field's value.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        match self.change(name) {
            Some(value) => value.as_deref(),
            None => self.base.get(name),
        }
    }

    fn put(&mut self, name: Cow<'static, str>, value: Option<String>) {
        match self.changes.iter_mut().find(|c| c.name == name) {
            Some(change) => {
                change.value = value;
                change.unsaved = true;
            }
            None => self.changes.push(Change {
                name,
                value,
                unsaved: true,
            }),
        }
    }

    /// Writes a field.
    pub(crate) fn insert(&mut self, name: impl Into<Cow<'static, str>>, value: String) {
        self.put(name.into(), Some(value));
    }

    /// Removes a field; returns whether it was there.
    pub(crate) fn remove(&mut self, name: impl Into<Cow<'static, str>>) -> bool {
        let name = name.into();
        let existed = self.get(&name).is_some();
        if existed {
            self.put(name, None);
        }
        existed
    }

    /// The changes not yet written to the store: a name and its new value (`None`:
    /// removed), in the order first made.
    pub(crate) fn unsaved(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.changes
            .iter()
            .filter(|c| c.unsaved)
            .map(|c| (c.name.as_ref(), c.value.as_deref()))
    }

    /// Whether some change is not yet written to the store.
    pub(crate) fn has_unsaved(&self) -> bool {
        self.changes.iter().any(|c| c.unsaved)
    }

    /// Every change is now in the store.
    pub(crate) fn mark_saved(&mut self) {
        for change in &mut self.changes {
            change.unsaved = false;
        }
    }

    /// The fields, stored ones first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let stored = self
            .base
            .iter()
            .filter(|(name, _)| self.change(name).is_none());
        let changed = self
            .changes
            .iter()
            .filter_map(|c| Some((c.name.as_ref(), c.value.as_deref()?)));
        stored.chain(changed)
    }

    /// The names of the fields this request wrote (and did not remove since).
    pub(crate) fn written_keys(&self) -> impl Iterator<Item = &str> {
        self.changes
            .iter()
            .filter(|c| c.value.is_some())
            .map(|c| c.name.as_ref())
    }

    /// The names of the stored fields, changed by this request or not.
    pub(crate) fn stored_keys(&self) -> impl Iterator<Item = &str> {
        self.base.iter().map(|(name, _)| name)
    }

    /// The field names.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(name, _)| name)
    }

    /// Whether there is no field.
    pub(crate) fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// At least [`size`](Self::size), without reading the fields: enough to know that a
    /// change stays under the size cap, in the usual case.
    pub(crate) fn size_bound(&self) -> usize {
        let changed: usize = self
            .changes
            .iter()
            .map(|c| c.name.len() + c.value.as_ref().map_or(0, String::len))
            .sum();
        self.base.packed_len() + changed
    }

    /// Bytes of field data (names and values), the quantity the size cap limits.
    pub(crate) fn size(&self) -> usize {
        self.iter().map(|(n, v)| n.len() + v.len()).sum()
    }

    /// The fields as an owned map.
    pub(crate) fn to_map(&self) -> BTreeMap<String, String> {
        let mut map = self.base.to_map();
        for change in &self.changes {
            match &change.value {
                Some(value) => map.insert(change.name.to_string(), value.clone()),
                None => map.remove(change.name.as_ref()),
            };
        }
        map
    }

    /// No fields at all.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields::pack(pairs.iter().copied())
    }

    #[test]
    fn packed_fields_round_trip_including_digits_and_commas() {
        let f = fields(&[("a", "1,2"), ("b12", "\"x,9\""), ("c", "")]);
        assert_eq!(
            f.iter().collect::<Vec<_>>(),
            [("a", "1,2"), ("b12", "\"x,9\""), ("c", "")]
        );
        assert_eq!(f.get("b12"), Some("\"x,9\""));
        assert_eq!(f.get("b"), None);
        assert_eq!(Fields::default().iter().count(), 0);
        assert_eq!(fields(&[]).packed_len(), 0, "no fields, no allocation");
    }

    #[test]
    fn packing_a_large_session_then_a_small_one_keeps_both_exact() {
        let big = "x".repeat(SCRATCH_KEEP * 2);
        let large = fields(&[("a", &big), ("b", "1")]);
        let small = fields(&[("c", "2")]);
        assert_eq!(large.get("a"), Some(big.as_str()));
        assert_eq!(large.get("b"), Some("1"));
        assert_eq!(small.iter().collect::<Vec<_>>(), [("c", "2")]);
        let merged = large.merged([("b", "3")].into_iter(), |n| n == "a");
        assert_eq!(merged.iter().collect::<Vec<_>>(), [("b", "3")]);
        let kept = SCRATCH.with(Cell::take);
        assert!(kept.capacity() <= SCRATCH_KEEP);
    }

    #[test]
    fn merging_agrees_with_a_map_on_generated_changes() {
        use rand::{Rng as _, SeedableRng as _};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let names = ["a", "b", "c", "d", "e", "f1", "f10", "f2", "\"q\"", "1,2"];
        let values = ["1", "", "\"x,9\"", "[1,2,3]", "12,34,ab"];
        let pick = |rng: &mut rand::rngs::StdRng| {
            let mut map = BTreeMap::new();
            for name in names {
                if rng.random_bool(0.5) {
                    let value = values[rng.random_range(0..values.len())];
                    map.insert(name.to_owned(), value.to_owned());
                }
            }
            map
        };
        for _ in 0..5_000 {
            let base = pick(&mut rng);
            let set = pick(&mut rng);
            let removed: Vec<&str> = names
                .iter()
                .copied()
                .filter(|_| rng.random_bool(0.3))
                .collect();
            let mut expected = base.clone();
            for name in &removed {
                expected.remove(*name);
            }
            expected.extend(set.clone());
            let merged = Fields::from_map(&base)
                .merged(set.iter().map(|(n, v)| (n.as_str(), v.as_str())), |n| {
                    removed.contains(&n)
                });
            assert_eq!(
                merged.to_map(),
                expected,
                "{base:?} + {set:?} - {removed:?}"
            );
            assert_eq!(merged, Fields::from_map(&expected), "packed the same way");
        }
    }

    #[test]
    fn merging_sets_removes_and_keeps_order() {
        let f = fields(&[("b", "2"), ("d", "4")]);
        let merged = f.merged([("a", "1"), ("d", "40"), ("e", "5")].into_iter(), |n| {
            n == "b"
        });
        assert_eq!(
            merged.iter().collect::<Vec<_>>(),
            [("a", "1"), ("d", "40"), ("e", "5")]
        );
        let emptied = f.merged(std::iter::empty(), |_| true);
        assert_eq!(emptied, Fields::default());
    }

    #[test]
    fn changes_override_the_stored_fields() {
        let mut d = Data::new(fields(&[("a", "1"), ("b", "2")]));
        d.insert("a", "10".to_owned());
        assert!(d.remove("b"));
        assert!(!d.remove("zz"), "removing an absent field is no change");
        d.insert("c", "3".to_owned());
        assert_eq!(d.get("a"), Some("10"));
        assert_eq!(d.get("b"), None);
        assert_eq!(d.size(), "a10c3".len());
        assert!(d.size_bound() >= d.size());
        let map = d.to_map();
        assert_eq!(map.len(), 2);
        assert_eq!(map["c"], "3");
        assert_eq!(
            d.unsaved().collect::<Vec<_>>(),
            [("a", Some("10")), ("b", None), ("c", Some("3"))]
        );
        d.mark_saved();
        assert!(!d.has_unsaved());
        assert_eq!(d.get("a"), Some("10"), "saved changes are still read");
        d.insert("b", "20".to_owned());
        assert_eq!(d.unsaved().collect::<Vec<_>>(), [("b", Some("20"))]);
        assert!(d.has_unsaved());
        assert_eq!(d.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        d.clear();
        assert!(d.is_empty());
    }
}

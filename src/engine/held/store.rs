//! A held value in a compact form: every node of the JSON tree in one `Vec`, an object's
//! keys beside it as numbers, and the strings of its keys and short values stored once.
//!
//! Why: a query over a held 15.7 MB GET_STATE in jaq's values spent its time in cache
//! misses (`perf`: `IndexMap::get`'s table, the entry, the key's `Box`, its bytes, the
//! value's `Box` and bytes, for each of the 10,000 tasks). Here a task's keys are one cache
//! line of `u32`s, a key is found by comparing numbers, and `"TASK_RUNNING"` is the same
//! few bytes for every task.

use bytes::Bytes;
use jaq_json::{Map, Num, Val};
use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// Strings up to this long are stored once however often they occur (keys always are).
const INTERN_UP_TO: usize = 64;
/// An object with more keys than this is read with a table of where each key is.
const SEARCHED_UP_TO: usize = 32;
/// The key of an array's item.
const NO_KEY: u32 = u32::MAX;

/// One JSON value; a container's items are `Store::nodes[start..start + len]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(isize),
    Float(f64),
    /// An integer past `isize` (kept in `Store::big`).
    Big(u32),
    Str(u32),
    Arr {
        start: u32,
        len: u32,
    },
    Obj {
        start: u32,
        len: u32,
    },
}

#[derive(Debug, Default)]
pub struct Store {
    nodes: Vec<Node>,
    /// `keys[i]` is the key of `nodes[i]` when it is an object's entry.
    keys: Vec<u32>,
    /// Each string's place in `bytes`.
    strs: Vec<(u32, u32)>,
    bytes: Vec<u8>,
    interned: HashMap<Box<[u8]>, u32>,
    big: Vec<Num>,
    root: Option<Node>,
}

impl Store {
    /// Reads `json` (the caller runs this on a big stack: any depth is read).
    pub fn parse(json: &[u8]) -> serde_json::Result<Store> {
        let builder = RefCell::new(Builder::default());
        let mut de = serde_json::Deserializer::from_slice(json);
        de.disable_recursion_limit();
        let root = Seed { b: &builder }.deserialize(&mut de)?;
        de.end()?;
        let Builder { mut store, .. } = builder.into_inner();
        store.root = Some(root);
        store.nodes.shrink_to_fit();
        store.keys.shrink_to_fit();
        store.bytes.shrink_to_fit();
        store.strs.shrink_to_fit();
        Ok(store)
    }

    pub fn root(&self) -> Node {
        self.root.unwrap_or(Node::Null)
    }

    pub fn str(&self, id: u32) -> &[u8] {
        let (at, len) = self.strs[id as usize];
        &self.bytes[at as usize..(at + len) as usize]
    }

    pub fn big(&self, id: u32) -> &Num {
        &self.big[id as usize]
    }

    pub fn items(&self, start: u32, len: u32) -> &[Node] {
        &self.nodes[start as usize..(start + len) as usize]
    }

    /// An object's entries, in order.
    pub fn entries(&self, start: u32, len: u32) -> impl Iterator<Item = (u32, Node)> + '_ {
        let range = start as usize..(start + len) as usize;
        self.keys[range.clone()]
            .iter()
            .copied()
            .zip(self.nodes[range].iter().copied())
    }

    /// The id of a key string, when some object here has that key.
    pub fn key_id(&self, key: &[u8]) -> Option<u32> {
        self.interned.get(key).copied()
    }

    /// The value of key `id` in an object.
    pub fn get(&self, start: u32, len: u32, id: u32) -> Option<Node> {
        let range = start as usize..(start + len) as usize;
        let at = self.keys[range].iter().position(|k| *k == id)?;
        Some(self.nodes[start as usize + at])
    }

    /// The node as a jaq value, as jaq-json would have read it.
    pub fn to_val(&self, node: Node) -> Val {
        match node {
            Node::Null => Val::Null,
            Node::Bool(b) => Val::Bool(b),
            Node::Int(i) => Val::Num(Num::Int(i)),
            Node::Float(f) => Val::Num(Num::Float(f)),
            Node::Big(id) => Val::Num(self.big(id).clone()),
            Node::Str(id) => Val::utf8_str(Bytes::copy_from_slice(self.str(id))),
            Node::Arr { start, len } => Val::Arr(Rc::new(
                self.items(start, len)
                    .iter()
                    .map(|n| self.to_val(*n))
                    .collect(),
            )),
            Node::Obj { start, len } => {
                let mut map = Map::with_capacity_and_hasher(len as usize, Default::default());
                for (key, value) in self.entries(start, len) {
                    let key = Val::utf8_str(Bytes::copy_from_slice(self.str(key)));
                    map.insert(key, self.to_val(value));
                }
                Val::obj(map)
            }
        }
    }
}

/// The store being read, and the items of the containers still open (a container's items
/// are moved into the store together when it closes, so they lie side by side).
#[derive(Default)]
struct Builder {
    store: Store,
    open: Vec<(u32, Node)>,
}

impl Builder {
    fn string(&mut self, s: &[u8], intern: bool) -> u32 {
        let store = &mut self.store;
        if intern {
            if let Some(id) = store.interned.get(s) {
                return *id;
            }
        }
        let id = store.strs.len() as u32;
        store.strs.push((store.bytes.len() as u32, s.len() as u32));
        store.bytes.extend_from_slice(s);
        if intern {
            store.interned.insert(s.into(), id);
        }
        id
    }

    /// Moves the items opened at `mark` into the store.
    fn close(&mut self, mark: usize) -> (u32, u32) {
        let store = &mut self.store;
        let start = store.nodes.len() as u32;
        let len = (self.open.len() - mark) as u32;
        for (key, node) in self.open.drain(mark..) {
            store.keys.push(key);
            store.nodes.push(node);
        }
        (start, len)
    }
}

#[derive(Clone, Copy)]
struct Seed<'b> {
    b: &'b RefCell<Builder>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

/// Reads an object's key as its string id.
struct Key<'b>(&'b RefCell<Builder>);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = u32;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u32, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = u32;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<u32, E> {
        Ok(self.0.borrow_mut().string(s.as_bytes(), true))
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Node, E> {
        Ok(self.number(Num::from_integral(n)))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Node, E> {
        Ok(self.number(Num::from_integral(n)))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Node, E> {
        Ok(Node::Float(n))
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<Node, E> {
        let intern = s.len() <= INTERN_UP_TO;
        Ok(Node::Str(self.b.borrow_mut().string(s.as_bytes(), intern)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mark = self.b.borrow().open.len();
        while let Some(v) = seq.next_element_seed(self)? {
            self.b.borrow_mut().open.push((NO_KEY, v));
        }
        let (start, len) = self.b.borrow_mut().close(mark);
        Ok(Node::Arr { start, len })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mark = self.b.borrow().open.len();
        // Where each key is, for a big object (a small one is searched).
        let mut places: Option<HashMap<u32, usize>> = None;
        while let Some(key) = map.next_key_seed(Key(self.b))? {
            let value = map.next_value_seed(self)?;
            let mut b = self.b.borrow_mut();
            let open = &mut b.open;
            if places.is_none() && open.len() - mark > SEARCHED_UP_TO {
                places = Some((mark..open.len()).map(|i| (open[i].0, i)).collect());
            }
            let found = match &places {
                Some(p) => p.get(&key).copied(),
                None => (mark..open.len()).find(|i| open[*i].0 == key),
            };
            // A repeated key keeps its first place and its last value, as jaq-json reads it.
            match found {
                Some(i) => open[i].1 = value,
                None => {
                    if let Some(p) = &mut places {
                        p.insert(key, open.len());
                    }
                    open.push((key, value));
                }
            }
        }
        let (start, len) = self.b.borrow_mut().close(mark);
        Ok(Node::Obj { start, len })
    }
}

impl Seed<'_> {
    fn number(self, n: Num) -> Node {
        match n {
            Num::Int(i) => Node::Int(i),
            other => {
                let mut b = self.b.borrow_mut();
                b.store.big.push(other);
                Node::Big(b.store.big.len() as u32 - 1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_jaq_json_reads() {
        for text in [
            r#"{"a": [1, -2, 3.5, 1e300, 18446744073709551615, true, null, "x"], "b": {}}"#,
            r#"{"k": 1, "k": 2, "j": 3}"#,
            r#""esc\"aped \u00e9 \ud83d\ude00""#,
            r#"[[], [[]], {"": ""}, {"a": {"a": "a"}}]"#,
            "123456789012345678901234567890",
        ] {
            let store = Store::parse(text.as_bytes()).unwrap();
            let theirs: Val = serde_json::from_str(text).unwrap();
            assert_eq!(store.to_val(store.root()), theirs, "{text}");
            assert_eq!(store.to_val(store.root()).to_string(), theirs.to_string());
        }
    }

    #[test]
    fn keys_and_short_strings_are_stored_once() {
        let text = r#"[{"state": "TASK_RUNNING"}, {"state": "TASK_RUNNING"}, {"state": "x"}]"#;
        let store = Store::parse(text.as_bytes()).unwrap();
        assert_eq!(store.strs.len(), 3);
        let id = store.key_id(b"state").unwrap();
        let Node::Arr { start, len } = store.root() else {
            panic!("an array")
        };
        let firsts: Vec<Node> = store
            .items(start, len)
            .iter()
            .map(|n| match n {
                Node::Obj { start, len } => store.get(*start, *len, id).unwrap(),
                _ => panic!("an object"),
            })
            .collect();
        assert_eq!(firsts[0], firsts[1]);
        assert_ne!(firsts[0], firsts[2]);
        assert_eq!(store.key_id(b"nope"), None);
    }

    #[test]
    fn broken_json_is_an_error() {
        for text in ["{", r#"{"a" 1}"#, "[1,]", "1 2", "\"\\x\""] {
            assert!(Store::parse(text.as_bytes()).is_err(), "{text}");
        }
    }
}

//! What the compact queries make rather than find: objects (`{task_id: {value: "x"}}`),
//! strings with `\(...)` in them, and `range`. A call's body is usually made this way (a
//! RECONCILE of 20,000 tasks is `[range(20000) | {task_id: {value: "t-\(.)"}}]`), and jaq
//! took 30-40 ms to make that one. As in `query.rs`, whatever is not answered exactly as
//! jaq answers it (a stream of several values where one is wanted, a number jaq formats
//! its own way) is left to jaq.

use super::query::{literal, Eval, Fallback, R, V};
use crate::engine::jq::MAX_OUTPUTS;
use bytes::Bytes;
use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::Term;
use jaq_json::{Map, Num, Val};
use std::rc::Rc;

impl<'s> Eval<'_, 's> {
    /// `{k: v, ...}` with literal keys and one value each; a key written twice keeps its
    /// first place and its last value, as jaq's does.
    pub(super) fn object(
        &self,
        entries: &[(Term<&'s str>, Option<Term<&'s str>>)],
        x: V<'s>,
        out: &mut Vec<V<'s>>,
    ) -> R<V<'s>> {
        let mut made: Vec<(V<'s>, V<'s>)> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let Term::Str(None, parts) = key else {
                return Err(Fallback);
            };
            let key = V::Str(literal(parts)?.into());
            let value = self.one(value.as_ref().ok_or(Fallback)?, x.clone(), out)?;
            match made.iter_mut().find(|(k, _)| bytes_of(k) == bytes_of(&key)) {
                Some((_, v)) => *v = value,
                None => made.push((key, value)),
            }
        }
        Ok(V::Obj(Rc::new(made)))
    }

    /// `"text \(f) text"`, each `f` giving one string, integer, boolean or null.
    pub(super) fn interpolated(
        &self,
        parts: &[StrPart<&'s str, Term<&'s str>>],
        x: V<'s>,
        out: &mut Vec<V<'s>>,
    ) -> R<V<'s>> {
        let mut text: Vec<u8> = Vec::new();
        for part in parts {
            match part {
                StrPart::Str(s) => text.extend_from_slice(s.as_bytes()),
                StrPart::Char(c) => text.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                StrPart::Term(t) => {
                    let v = self.one(t, x.clone(), out)?;
                    write_text(&v, &mut text)?;
                }
            }
        }
        Ok(V::Str(text.into()))
    }

    /// `range(upto)` and `range(from; upto)` over integers.
    pub(super) fn range(
        &self,
        from: Option<&Term<&'s str>>,
        upto: &Term<&'s str>,
        x: V<'s>,
        out: &mut Vec<V<'s>>,
    ) -> R<()> {
        let from = match from {
            Some(f) => int(&self.one(f, x.clone(), out)?)?,
            None => 0,
        };
        let upto = int(&self.one(upto, x, out)?)?;
        let count = upto.saturating_sub(from).max(0);
        if usize::try_from(count).map_or(true, |n| out.len().saturating_add(n) > MAX_OUTPUTS) {
            return Err(Fallback);
        }
        out.extend((from..upto).map(|i| V::Num(Num::Int(i))));
        Ok(())
    }
}

fn int(v: &V<'_>) -> R<isize> {
    match v {
        V::Num(Num::Int(i)) => Ok(*i),
        V::Node(_, super::store::Node::Int(i)) => Ok(*i),
        _ => Err(Fallback),
    }
}

/// A value as `\(...)` writes it: a string as it is, the others as their JSON.
fn write_text(v: &V<'_>, text: &mut Vec<u8>) -> R<()> {
    match v {
        V::Str(s) => text.extend_from_slice(s),
        V::Lit(s) => text.extend_from_slice(s.as_bytes()),
        V::Node(store, super::store::Node::Str(id)) => text.extend_from_slice(store.str(*id)),
        V::Null | V::Node(_, super::store::Node::Null) => text.extend_from_slice(b"null"),
        V::Bool(b) | V::Node(_, super::store::Node::Bool(b)) => {
            text.extend_from_slice(if *b { b"true" } else { b"false" })
        }
        V::Num(Num::Int(i)) | V::Node(_, super::store::Node::Int(i)) => {
            text.extend_from_slice(i.to_string().as_bytes())
        }
        // Floats, big numbers, arrays and objects: jaq's own formatting.
        _ => return Err(Fallback),
    }
    Ok(())
}

fn bytes_of<'a>(v: &'a V<'_>) -> &'a [u8] {
    match v {
        V::Str(s) => s,
        V::Lit(s) => s.as_bytes(),
        _ => &[],
    }
}

/// `.key` of a made object.
pub(super) fn get<'s>(entries: &[(V<'s>, V<'s>)], key: &[u8]) -> V<'s> {
    entries
        .iter()
        .find(|(k, _)| bytes_of(k) == key)
        .map_or(V::Null, |(_, v)| v.clone())
}

/// `keys` of a made object: in byte order, as jaq's.
pub(super) fn sorted_keys<'s>(entries: &[(V<'s>, V<'s>)]) -> Vec<V<'s>> {
    let mut keys: Vec<V<'s>> = entries.iter().map(|(k, _)| k.clone()).collect();
    keys.sort_by(|a, b| bytes_of(a).cmp(bytes_of(b)));
    keys
}

/// Whether a value is or holds an object made by the expression.
pub(super) fn has_made(v: &V<'_>) -> bool {
    match v {
        V::Obj(_) => true,
        V::Arr(items) => items.iter().any(has_made),
        _ => false,
    }
}

pub(super) fn object_val(entries: &[(V<'_>, V<'_>)]) -> Val {
    let mut map = Map::with_capacity_and_hasher(entries.len(), Default::default());
    for (k, v) in entries {
        map.insert(
            Val::utf8_str(Bytes::copy_from_slice(bytes_of(k))),
            v.to_val(),
        );
    }
    Val::obj(map)
}

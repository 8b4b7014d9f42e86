//! The common queries of held values, run on their compact form (`store.rs`) rather than by
//! jaq: paths (`.a.b`, `.[]`, `.[0]`, with `?`), pipes, `,`, `[...]`, literals,
//! comparisons, `and`/`or`, `if`, and `select`, `map`, `any`, `all`, `first`, `last`,
//! `keys`, `values`, `length`, `not`, `type`, `empty`, `true`, `false`, `null`.
//!
//! Anything else, and any error, is not answered here (`None`): jaq runs the expression
//! instead, on the same values, so what a user sees (values and error messages) is always
//! jaq's. What is answered here is answered as jaq does: the tests compare the two on every
//! construct.

use super::store::{Node, Store};
use crate::engine::jq::MAX_OUTPUTS;
use bytes::Bytes;
use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Term};
use jaq_core::ops::Cmp;
use jaq_core::path::{Opt, Part};
use jaq_core::ValT;
use jaq_json::{Num, Val};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

/// Not answered here: jaq runs the expression.
pub(super) struct Fallback;
pub(super) type R<T> = Result<T, Fallback>;

/// A value during evaluation: a node of a held value, or one the expression made.
#[derive(Clone)]
pub(super) enum V<'s> {
    Node(&'s Store, Node),
    Null,
    Bool(bool),
    Num(Num),
    Str(Rc<[u8]>),
    /// A string written in the expression without escapes.
    Lit(&'s str),
    Arr(Rc<Vec<V<'s>>>),
    /// An object the expression made (`make.rs`): string keys, each once, in order.
    Obj(Rc<Vec<(V<'s>, V<'s>)>>),
}

/// What a value is, to compare and measure it.
enum View<'a, 's> {
    Null,
    Bool(bool),
    Num(Num),
    Str(&'a [u8]),
    Arr(Items<'a, 's>),
    Obj(&'s Store, u32, u32),
    Made(&'a [(V<'s>, V<'s>)]),
}

#[derive(Clone, Copy)]
enum Items<'a, 's> {
    Nodes(&'s Store, &'s [Node]),
    Made(&'a [V<'s>]),
}

impl<'a, 's> Items<'a, 's> {
    fn len(&self) -> usize {
        match self {
            Items::Nodes(_, n) => n.len(),
            Items::Made(v) => v.len(),
        }
    }
    fn get(&self, i: usize) -> Option<V<'s>> {
        match self {
            Items::Nodes(s, n) => n.get(i).map(|n| V::Node(s, *n)),
            Items::Made(v) => v.get(i).cloned(),
        }
    }
}

impl<'s> V<'s> {
    fn view(&self) -> View<'_, 's> {
        match self {
            V::Null => View::Null,
            V::Bool(b) => View::Bool(*b),
            V::Num(n) => View::Num(n.clone()),
            V::Str(s) => View::Str(s),
            V::Lit(s) => View::Str(s.as_bytes()),
            V::Arr(items) => View::Arr(Items::Made(items)),
            V::Obj(entries) => View::Made(entries),
            V::Node(store, node) => match *node {
                Node::Null => View::Null,
                Node::Bool(b) => View::Bool(b),
                Node::Int(i) => View::Num(Num::Int(i)),
                Node::Float(f) => View::Num(Num::Float(f)),
                Node::Big(id) => View::Num(store.big(id).clone()),
                Node::Str(id) => View::Str(store.str(id)),
                Node::Arr { start, len } => View::Arr(Items::Nodes(store, store.items(start, len))),
                Node::Obj { start, len } => View::Obj(store, start, len),
            },
        }
    }

    fn truthy(&self) -> bool {
        !matches!(
            self,
            V::Null | V::Bool(false) | V::Node(_, Node::Null | Node::Bool(false))
        )
    }

    pub(super) fn to_val(&self) -> Val {
        match self {
            V::Node(store, node) => store.to_val(*node),
            V::Null => Val::Null,
            V::Bool(b) => Val::Bool(*b),
            V::Num(n) => Val::Num(n.clone()),
            V::Str(s) => Val::utf8_str(Bytes::copy_from_slice(s)),
            V::Lit(s) => Val::utf8_str(Bytes::copy_from_slice(s.as_bytes())),
            V::Arr(items) => Val::Arr(Rc::new(items.iter().map(V::to_val).collect())),
            V::Obj(entries) => super::make::object_val(entries),
        }
    }
}

/// An expression made only of what is answered here (`None` from `parse` otherwise), so
/// that a big input is read into a `Store` only for an expression that can use it.
pub struct Query<'c> {
    term: Term<&'c str>,
}

impl<'c> Query<'c> {
    pub fn parse(code: &'c str) -> Option<Query<'c>> {
        let term = jaq_core::load::parse(code, |p| p.term())?;
        answerable(&term).then_some(Query { term })
    }

    /// Its values on `input` (`null` when `None`) with `vars` (names without `$`), or
    /// `None` when jaq is to run it (an error, or a stream this does not pair).
    pub fn run(&self, input: Option<&'c Store>, vars: &[(&str, &'c Store)]) -> Option<Vec<Val>> {
        let eval = Eval {
            vars,
            keys: RefCell::new(Vec::new()),
        };
        let input = input.map_or(V::Null, |s| V::Node(s, s.root()));
        let mut out = Vec::new();
        eval.run(&self.term, input, &mut out).ok()?;
        if out.len() > MAX_OUTPUTS {
            return None;
        }
        Some(out.iter().map(V::to_val).collect())
    }
}

/// Whether `t` uses only what `Eval::run` evaluates (mirrors its cases).
fn answerable(t: &Term<&str>) -> bool {
    match t {
        Term::Id | Term::Num(_) | Term::Var(_) | Term::Arr(None) => true,
        Term::Str(None, parts) => parts.iter().all(|p| match p {
            StrPart::Term(t) => answerable(t),
            _ => true,
        }),
        Term::Obj(entries) => entries.iter().all(|(k, v)| {
            matches!(k, Term::Str(None, parts) if literal(parts).is_ok())
                && v.as_ref().is_some_and(answerable)
        }),
        Term::Arr(Some(f)) => answerable(f),
        Term::BinOp(l, op, r) => {
            matches!(
                op,
                BinaryOp::Pipe(None)
                    | BinaryOp::Comma
                    | BinaryOp::And
                    | BinaryOp::Or
                    | BinaryOp::Cmp(_)
            ) && answerable(l)
                && answerable(r)
        }
        Term::IfThenElse(branches, otherwise) => {
            branches.iter().all(|(c, t)| answerable(c) && answerable(t))
                && otherwise.as_deref().is_none_or(answerable)
        }
        Term::Call(name, args) => {
            CALLS.contains(&(name, args.len())) && args.iter().all(answerable)
        }
        Term::Path(head, path) => {
            answerable(head)
                && path.0.iter().all(|(part, _)| match part {
                    Part::Range(None, None) => true,
                    Part::Index(Term::Str(None, key)) => literal_ref(key).is_ok(),
                    Part::Index(i) => integer(i).is_ok(),
                    _ => false,
                })
        }
        _ => false,
    }
}

/// The filters `Eval::call` evaluates, with their number of arguments.
const CALLS: &[(&str, usize)] = &[
    ("empty", 0),
    ("true", 0),
    ("false", 0),
    ("null", 0),
    ("not", 0),
    ("length", 0),
    ("type", 0),
    ("values", 0),
    ("first", 0),
    ("last", 0),
    ("keys", 0),
    ("any", 0),
    ("all", 0),
    ("any", 1),
    ("all", 1),
    ("any", 2),
    ("all", 2),
    ("select", 1),
    ("map", 1),
    ("range", 1),
    ("range", 2),
];

pub(super) struct Eval<'v, 's> {
    vars: &'v [(&'v str, &'s Store)],
    /// The id of each key the expression names, per store: looked up once, not per object.
    keys: RefCell<Vec<(*const Store, *const u8, Option<u32>)>>,
}

impl<'s> Eval<'_, 's> {
    /// Pushes the values of `t` on `x` onto `out`. Streams are kept on `out` itself (a
    /// caller looks at what was pushed after its mark), so a query over 10,000 tasks does
    /// not allocate per task.
    pub(super) fn run(&self, t: &Term<&'s str>, x: V<'s>, out: &mut Vec<V<'s>>) -> R<()> {
        if out.len() > MAX_OUTPUTS {
            return Err(Fallback);
        }
        match t {
            Term::Id => out.push(x),
            Term::Num(n) => out.push(number(n)?),
            Term::Str(None, parts) => {
                let v = match literal_ref(parts) {
                    Ok(text) => V::Lit(text),
                    Err(_) => match literal(parts) {
                        Ok(text) => V::Str(text.into()),
                        Err(_) => self.interpolated(parts, x, out)?,
                    },
                };
                out.push(v);
            }
            Term::Obj(entries) => {
                let v = self.object(entries, x, out)?;
                out.push(v);
            }
            Term::Arr(None) => out.push(V::Arr(Rc::new(Vec::new()))),
            Term::Arr(Some(f)) => {
                let mut items = Vec::new();
                self.run(f, x, &mut items)?;
                out.push(V::Arr(Rc::new(items)));
            }
            Term::Var(name) => {
                let name = name.strip_prefix('$').ok_or(Fallback)?;
                let (_, store) = self.vars.iter().find(|(n, _)| *n == name).ok_or(Fallback)?;
                out.push(V::Node(store, store.root()));
            }
            Term::BinOp(l, op, r) => self.binop(l, op, r, x, out)?,
            Term::IfThenElse(branches, otherwise) => {
                self.branches(branches, otherwise.as_deref(), x, out)?
            }
            Term::Call(name, args) => self.call(name, args, x, out)?,
            Term::Path(head, path) => {
                let mark = out.len();
                self.run(head, x, out)?;
                for h in taken(out, mark) {
                    self.path(&path.0, h, out)?;
                }
            }
            _ => return Err(Fallback),
        }
        Ok(())
    }

    /// The only value of `t`; more or fewer is left to jaq (the order in which jaq pairs
    /// the values of two streams is not repeated here).
    pub(super) fn one(&self, t: &Term<&'s str>, x: V<'s>, out: &mut Vec<V<'s>>) -> R<V<'s>> {
        let mark = out.len();
        self.run(t, x, out)?;
        match out.len() - mark {
            1 => out.pop().ok_or(Fallback),
            _ => Err(Fallback),
        }
    }

    fn binop(
        &self,
        l: &Term<&'s str>,
        op: &BinaryOp<&'s str>,
        r: &Term<&'s str>,
        x: V<'s>,
        out: &mut Vec<V<'s>>,
    ) -> R<()> {
        match op {
            BinaryOp::Pipe(None) => {
                let mark = out.len();
                self.run(l, x, out)?;
                for y in taken(out, mark) {
                    self.run(r, y, out)?;
                }
            }
            BinaryOp::Comma => {
                self.run(l, x.clone(), out)?;
                self.run(r, x, out)?;
            }
            BinaryOp::And | BinaryOp::Or => {
                let and = matches!(op, BinaryOp::And);
                // `false and r` is false and `true or r` true without running `r`.
                if self.one(l, x.clone(), out)?.truthy() != and {
                    out.push(V::Bool(!and));
                } else {
                    let mark = out.len();
                    self.run(r, x, out)?;
                    for v in &mut out[mark..] {
                        *v = V::Bool(v.truthy());
                    }
                }
            }
            BinaryOp::Cmp(cmp) => {
                let a = self.one(l, x.clone(), out)?;
                let b = self.one(r, x, out)?;
                out.push(V::Bool(compare(&a, *cmp, &b)?));
            }
            _ => return Err(Fallback),
        }
        Ok(())
    }

    fn branches(
        &self,
        branches: &[(Term<&'s str>, Term<&'s str>)],
        otherwise: Option<&Term<&'s str>>,
        x: V<'s>,
        out: &mut Vec<V<'s>>,
    ) -> R<()> {
        let Some(((cond, then), rest)) = branches.split_first() else {
            return match otherwise {
                Some(t) => self.run(t, x, out),
                None => {
                    out.push(x);
                    Ok(())
                }
            };
        };
        let mark = out.len();
        self.run(cond, x.clone(), out)?;
        for c in taken(out, mark) {
            if c.truthy() {
                self.run(then, x.clone(), out)?;
            } else {
                self.branches(rest, otherwise, x.clone(), out)?;
            }
        }
        Ok(())
    }

    fn call(&self, name: &str, args: &[Term<&'s str>], x: V<'s>, out: &mut Vec<V<'s>>) -> R<()> {
        match (name, args) {
            ("empty", []) => {}
            ("true", []) => out.push(V::Bool(true)),
            ("false", []) => out.push(V::Bool(false)),
            ("null", []) => out.push(V::Null),
            ("not", []) => out.push(V::Bool(!x.truthy())),
            ("length", []) => out.push(length(&x)?),
            ("type", []) => out.push(V::Lit(type_name(&x))),
            ("select", [f]) => {
                let mark = out.len();
                self.run(f, x.clone(), out)?;
                let times = out[mark..].iter().filter(|c| c.truthy()).count();
                out.truncate(mark);
                out.extend(std::iter::repeat_n(x, times));
            }
            ("values", []) => {
                if !matches!(x.view(), View::Null) {
                    out.push(x);
                }
            }
            ("first", []) => out.extend(index(&x, 0, Opt::Essential)?),
            ("last", []) => out.extend(index(&x, -1, Opt::Essential)?),
            ("keys", []) => out.push(keys(&x)?),
            // `any(g; c)` is `isempty(g | c or empty) | not`: true at the first `c` that
            // is true; `all(g; c)` false at the first that is false.
            ("any" | "all", [g, cond]) => {
                let mark = out.len();
                self.run(g, x, out)?;
                let found = self.find(taken(out, mark), cond, name == "any", out)?;
                out.push(V::Bool(found == (name == "any")));
            }
            ("any" | "all", [cond]) => {
                let mut items = Vec::new();
                each(&x, Opt::Essential, |item| {
                    items.push(item);
                    Ok(())
                })?;
                let found = self.find(items.into_iter(), cond, name == "any", out)?;
                out.push(V::Bool(found == (name == "any")));
            }
            ("any" | "all", []) => {
                let mut found = false;
                each(&x, Opt::Essential, |item| {
                    found = found || item.truthy() == (name == "any");
                    Ok(())
                })?;
                out.push(V::Bool(found == (name == "any")));
            }
            ("range", [upto]) => self.range(None, upto, x, out)?,
            ("range", [from, upto]) => self.range(Some(from), upto, x, out)?,
            ("map", [f]) => {
                let mut items = Vec::new();
                each(&x, Opt::Essential, |item| self.run(f, item, &mut items))?;
                out.push(V::Arr(Rc::new(items)));
            }
            _ => return Err(Fallback),
        }
        Ok(())
    }

    /// Whether `cond` gives `wanted` (as truthiness) on one of `items`, stopping there.
    fn find(
        &self,
        items: impl Iterator<Item = V<'s>>,
        cond: &Term<&'s str>,
        wanted: bool,
        out: &mut Vec<V<'s>>,
    ) -> R<bool> {
        for item in items {
            let mark = out.len();
            self.run(cond, item, out)?;
            let hit = out[mark..].iter().any(|c| c.truthy() == wanted);
            out.truncate(mark);
            if hit {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn path(&self, parts: &[(Part<Term<&'s str>>, Opt)], x: V<'s>, out: &mut Vec<V<'s>>) -> R<()> {
        let Some(((part, opt), rest)) = parts.split_first() else {
            out.push(x);
            return Ok(());
        };
        match part {
            Part::Range(None, None) => each(&x, *opt, |item| self.path(rest, item, out))?,
            Part::Index(Term::Str(None, key)) => {
                if let Some(v) = self.key(&x, literal_ref(key)?, *opt)? {
                    self.path(rest, v, out)?;
                }
            }
            Part::Index(i @ (Term::Num(_) | Term::Neg(_))) => {
                let i = integer(i)?;
                if let Some(v) = index(&x, i, *opt)? {
                    self.path(rest, v, out)?;
                }
            }
            _ => return Err(Fallback),
        }
        Ok(())
    }

    /// `.key` of `x`: `None` when `x` cannot be indexed and the part is optional.
    fn key(&self, x: &V<'s>, key: &str, opt: Opt) -> R<Option<V<'s>>> {
        match x {
            V::Null | V::Node(_, Node::Null) => Ok(Some(V::Null)),
            V::Node(store, Node::Obj { start, len }) => {
                let found = self
                    .key_id(store, key)
                    .and_then(|id| store.get(*start, *len, id));
                Ok(Some(found.map_or(V::Null, |n| V::Node(store, n))))
            }
            V::Obj(entries) => Ok(Some(super::make::get(entries, key.as_bytes()))),
            _ => optional(opt),
        }
    }

    fn key_id(&self, store: &'s Store, key: &str) -> Option<u32> {
        let (s, k) = (store as *const Store, key.as_ptr());
        let mut keys = self.keys.borrow_mut();
        if let Some((_, _, id)) = keys.iter().find(|(ks, kk, _)| *ks == s && *kk == k) {
            return *id;
        }
        let id = store.key_id(key.as_bytes());
        keys.push((s, k, id));
        id
    }
}

/// The values pushed onto `out` after `mark`, taken off it (without allocating when there
/// is one, the usual case).
fn taken<'s>(out: &mut Vec<V<'s>>, mark: usize) -> TakenIter<'s> {
    match out.len() - mark {
        0 => TakenIter::None,
        1 => TakenIter::One(out.pop()),
        _ => TakenIter::Many(out.split_off(mark).into_iter()),
    }
}

enum TakenIter<'s> {
    None,
    One(Option<V<'s>>),
    Many(std::vec::IntoIter<V<'s>>),
}

impl<'s> Iterator for TakenIter<'s> {
    type Item = V<'s>;
    fn next(&mut self) -> Option<V<'s>> {
        match self {
            TakenIter::None => None,
            TakenIter::One(v) => v.take(),
            TakenIter::Many(it) => it.next(),
        }
    }
}

/// Runs `f` on each item of an array or value of an object.
fn each<'s>(x: &V<'s>, opt: Opt, mut f: impl FnMut(V<'s>) -> R<()>) -> R<()> {
    match x.view() {
        View::Arr(Items::Nodes(store, nodes)) => {
            nodes.iter().try_for_each(|n| f(V::Node(store, *n)))
        }
        View::Arr(Items::Made(items)) => items.iter().cloned().try_for_each(f),
        View::Obj(store, start, len) => store
            .entries(start, len)
            .try_for_each(|(_, n)| f(V::Node(store, n))),
        View::Made(entries) => entries.iter().try_for_each(|(_, v)| f(v.clone())),
        _ => optional::<()>(opt).map(|_| ()),
    }
}

/// A path part that cannot apply: nothing when it is optional, else jaq's error.
fn optional<T>(opt: Opt) -> R<Option<T>> {
    match opt {
        Opt::Optional => Ok(None),
        Opt::Essential => Err(Fallback),
    }
}

fn index<'s>(x: &V<'s>, i: isize, opt: Opt) -> R<Option<V<'s>>> {
    match x.view() {
        View::Null => Ok(Some(V::Null)),
        View::Arr(items) => {
            let at = if i < 0 {
                i.checked_add(items.len() as isize)
            } else {
                Some(i)
            };
            let item = at
                .and_then(|a| usize::try_from(a).ok())
                .and_then(|a| items.get(a));
            Ok(Some(item.unwrap_or(V::Null)))
        }
        _ => optional(opt),
    }
}

/// An integer index written in the expression (`.[2]`, `.[-1]`).
fn integer(t: &Term<&str>) -> R<isize> {
    match t {
        Term::Num(n) => n.parse().map_err(|_| Fallback),
        Term::Neg(inner) => integer(inner)?.checked_neg().ok_or(Fallback),
        _ => Err(Fallback),
    }
}

/// jaq's `keys`: an object's keys in byte order, an array's indices.
fn keys<'s>(x: &V<'s>) -> R<V<'s>> {
    let keys = match x.view() {
        View::Obj(store, start, len) => {
            let mut ids: Vec<u32> = store.entries(start, len).map(|(k, _)| k).collect();
            ids.sort_by(|a, b| store.str(*a).cmp(store.str(*b)));
            ids.into_iter()
                .map(|id| V::Node(store, Node::Str(id)))
                .collect()
        }
        View::Arr(items) => (0..items.len())
            .map(|i| V::Num(Num::from_integral(i)))
            .collect(),
        View::Made(entries) => super::make::sorted_keys(entries),
        _ => return Err(Fallback),
    };
    Ok(V::Arr(Rc::new(keys)))
}

fn length<'s>(x: &V<'s>) -> R<V<'s>> {
    let n = match x.view() {
        View::Null => 0,
        View::Str(s) => std::str::from_utf8(s)
            .map_err(|_| Fallback)?
            .chars()
            .count(),
        View::Arr(items) => items.len(),
        View::Obj(_, _, len) => len as usize,
        View::Made(entries) => entries.len(),
        View::Num(Num::Int(i)) => return Ok(V::Num(Num::Int(i.checked_abs().ok_or(Fallback)?))),
        View::Num(Num::Float(f)) => return Ok(V::Num(Num::Float(f.abs()))),
        View::Num(_) | View::Bool(_) => return Err(Fallback),
    };
    Ok(V::Num(Num::from_integral(n)))
}

fn type_name(x: &V<'_>) -> &'static str {
    match x.view() {
        View::Null => "null",
        View::Bool(_) => "boolean",
        View::Num(_) => "number",
        View::Str(_) => "string",
        View::Arr(_) => "array",
        View::Obj(..) | View::Made(_) => "object",
    }
}

fn compare(a: &V<'_>, cmp: Cmp, b: &V<'_>) -> R<bool> {
    // Objects made by the expression are compared by jaq.
    if super::make::has_made(a) || super::make::has_made(b) {
        return Err(Fallback);
    }
    let order = match cmp {
        Cmp::Eq => return Ok(equal(a, b)),
        Cmp::Ne => return Ok(!equal(a, b)),
        _ => match (a.view(), b.view()) {
            (View::Null, View::Null) => Ordering::Equal,
            (View::Bool(x), View::Bool(y)) => x.cmp(&y),
            (View::Num(x), View::Num(y)) => x.cmp(&y),
            (View::Str(x), View::Str(y)) => x.cmp(y),
            _ => return Err(Fallback),
        },
    };
    Ok(match cmp {
        Cmp::Lt => order.is_lt(),
        Cmp::Le => order.is_le(),
        Cmp::Gt => order.is_gt(),
        _ => order.is_ge(),
    })
}

/// jaq's equality: numbers by value, arrays item by item, objects by their keys' values
/// in any order.
fn equal(a: &V<'_>, b: &V<'_>) -> bool {
    match (a.view(), b.view()) {
        (View::Null, View::Null) => true,
        (View::Bool(x), View::Bool(y)) => x == y,
        (View::Num(x), View::Num(y)) => x == y,
        (View::Str(x), View::Str(y)) => x == y,
        (View::Arr(x), View::Arr(y)) => {
            x.len() == y.len()
                && (0..x.len()).all(|i| match (x.get(i), y.get(i)) {
                    (Some(p), Some(q)) => equal(&p, &q),
                    _ => false,
                })
        }
        (View::Obj(s, start, len), View::Obj(t, tstart, tlen)) => {
            len == tlen
                && s.entries(start, len).all(|(k, v)| {
                    let found = t.key_id(s.str(k)).and_then(|id| t.get(tstart, tlen, id));
                    found.is_some_and(|w| equal(&V::Node(s, v), &V::Node(t, w)))
                })
        }
        _ => false,
    }
}

fn number<'s>(text: &str) -> R<V<'s>> {
    match Val::from_num(text) {
        Ok(Val::Num(n)) => Ok(V::Num(n)),
        _ => Err(Fallback),
    }
}

/// A string literal's text (escapes decoded); one with `\(...)` is left to jaq.
pub(super) fn literal<'s>(parts: &[StrPart<&'s str, Term<&'s str>>]) -> R<Vec<u8>> {
    let mut s = String::new();
    for part in parts {
        match part {
            StrPart::Str(text) => s.push_str(text),
            StrPart::Char(c) => s.push(*c),
            StrPart::Term(_) => return Err(Fallback),
        }
    }
    Ok(s.into_bytes())
}

/// A key written in the expression, borrowed from it when it has no escapes (so its id is
/// looked up once per store, by its place in the expression's text).
fn literal_ref<'s>(parts: &[StrPart<&'s str, Term<&'s str>>]) -> R<&'s str> {
    match parts {
        [StrPart::Str(text)] => Ok(text),
        [] => Ok(""),
        _ => Err(Fallback),
    }
}

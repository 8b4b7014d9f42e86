//! jq evaluation through the jaq crates: every dynamic value in a cell is a jq expression
//! over the session's variables. Values cross in and out as serde_json::Value.

use crate::cells::lexer;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, unwrap_valr, Compiler, Ctx, Vars};
use jaq_json::Val;
use serde_json::Value;
use std::rc::Rc;

/// At most this many outputs are collected from one expression, so `repeat(1)` or
/// `range(1e9)` cannot eat the kernel's memory.
pub const MAX_OUTPUTS: usize = 100_000;

/// jaq's parser, compiler and evaluator recurse once per nesting level and once per
/// operator of a chain, several KiB a level in debug builds, and a stack overflow aborts
/// the whole kernel. So programs nesting or chaining more than this are refused before
/// jaq sees them, and what jaq does runs on a stack of `STACK_BYTES` (see `on_big_stack`).
pub const MAX_NESTING: usize = 1_000;
pub const MAX_OPERATORS: usize = 10_000;
/// Values deeper than this are refused when they leave jq: displays, serialization and
/// drops of `serde_json::Value` recurse too, on ordinary 2 MiB stacks. Mesos's own JSON
/// is parsed with serde_json's limit of 128 levels, well below this.
pub const MAX_VALUE_DEPTH: usize = 256;
/// Reserved, not committed: only the pages jaq touches are used.
const STACK_BYTES: usize = 256 * 1024 * 1024;
/// Below this much stack left, jaq gets a fresh stack of `STACK_BYTES`.
const RED_ZONE: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum JqError {
    #[error("{message}")]
    Syntax { message: String, offset: usize },
    #[error("{0}")]
    Compile(String),
    #[error("{0}")]
    Runtime(String),
    #[error("the expression gave more than {MAX_OUTPUTS} values")]
    TooMany,
    #[error("the expression nests {0} levels deep; at most {MAX_NESTING} are allowed")]
    TooDeep(usize),
    #[error("the expression has {0} operators; at most {MAX_OPERATORS} are allowed")]
    TooLong(usize),
    #[error("the expression gave a value nested more than {MAX_VALUE_DEPTH} levels deep")]
    DeepValue,
    /// The jq worker process ran out of stack: a function that recursed too deep.
    #[error("the expression recursed too deep: jq ran out of stack (the kernel and its variables are fine)")]
    StackOverflow,
    /// The jq worker process hit its memory limit (MiB).
    #[error("the expression needed more than {0} MiB of memory and was stopped (the kernel and its variables are fine; MESOS_KERNEL_JQ_MEMORY_MB raises the limit)")]
    OutOfMemory(u64),
    /// The input given as JSON text (an HTTP answer's body) does not parse.
    #[error("the input is not JSON: {0}")]
    InputNotJson(String),
    /// The jq worker process ended for another reason.
    #[error("jq stopped unexpectedly ({0}); the next expression starts it again")]
    WorkerDied(String),
}

/// Refuses programs that would make jaq recurse past its stack (see `MAX_NESTING`).
pub(crate) fn check_size(code: &str) -> Result<(), JqError> {
    let (depth, operators) = lexer::nesting(code);
    if depth > MAX_NESTING {
        return Err(JqError::TooDeep(depth));
    }
    if operators > MAX_OPERATORS {
        return Err(JqError::TooLong(operators));
    }
    Ok(())
}

/// Runs `f` where at least `RED_ZONE` bytes of stack are left: the kernel calls jq from
/// tokio's threads, whose stacks are 2 MiB, too little for jaq on bigger programs.
pub(crate) fn on_big_stack<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(RED_ZONE, STACK_BYTES, f)
}

impl JqError {
    /// Character offset into the expression, when the error has one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            JqError::Syntax { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}

fn offset_in(code: &str, part: &str) -> usize {
    let start = part.as_ptr() as usize;
    let base = code.as_ptr() as usize;
    if start >= base && start <= base + code.len() {
        code[..start - base].chars().count()
    } else {
        0
    }
}

/// Checks that `code` parses as jq, without running it.
pub fn check_syntax(code: &str) -> Result<(), JqError> {
    check_size(code)?;
    on_big_stack(|| load_only(code))
}

fn load_only(code: &str) -> Result<(), JqError> {
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    loader
        .load(&arena, File { code, path: () })
        .map(|_| ())
        .map_err(|errs| load_error(code, errs))
}

fn load_error<P>(code: &str, errs: jaq_core::load::Errors<&str, P>) -> JqError {
    use jaq_core::load::Error;
    for (_, err) in errs {
        match err {
            Error::Lex(list) => {
                if let Some((expect, at)) = list.first() {
                    let found = at.chars().take(12).collect::<String>();
                    return JqError::Syntax {
                        message: format!("expected {}{}", expect.as_str(), found_text(&found)),
                        offset: offset_in(code, at),
                    };
                }
            }
            Error::Parse(list) => {
                if let Some((expect, at)) = list.first() {
                    let found = at.chars().take(12).collect::<String>();
                    return JqError::Syntax {
                        message: format!("expected {}{}", expect.as_str(), found_text(&found)),
                        offset: offset_in(code, at),
                    };
                }
            }
            Error::Io(list) => {
                if let Some((path, msg)) = list.first() {
                    return JqError::Compile(format!("cannot load module {path}: {msg}"));
                }
            }
        }
    }
    JqError::Syntax {
        message: "invalid jq".into(),
        offset: 0,
    }
}

fn found_text(found: &str) -> String {
    if found.is_empty() {
        ", found the end".to_string()
    } else {
        format!(", found '{found}'")
    }
}

type Filter = jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>;

/// Compiled filters kept per thread (evaluation runs on the blocking pool, whose threads are
/// reused), keyed by the code and the variable names: compiling loads jq's standard
/// definitions, which costs far more than running a small filter.
const CACHE_ENTRIES: usize = 256;

type Cache = std::collections::HashMap<(String, Vec<String>), Rc<Filter>>;

thread_local! {
    static CACHE: std::cell::RefCell<Cache> = std::cell::RefCell::new(Cache::new());
}

fn compile(code: &str, names: &[String]) -> Result<Rc<Filter>, JqError> {
    let key = (code.to_string(), names.to_vec());
    if let Some(f) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(f);
    }
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(&arena, File { code, path: () })
        .map_err(|errs| load_error(code, errs))?;
    let filter = Compiler::default()
        .with_funs(funs)
        .with_global_vars(names.iter().map(String::as_str))
        .compile(modules)
        .map_err(|errs| {
            let mut parts = Vec::new();
            for (_, list) in errs {
                for (name, undefined) in list {
                    parts.push(format!("{} {name} is not defined", undefined.as_str()));
                }
            }
            JqError::Compile(parts.join("; "))
        })?;
    let filter = Rc::new(filter);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_ENTRIES {
            c.clear();
        }
        c.insert(key, filter.clone());
    });
    Ok(filter)
}

/// Evaluates `code` with `input` as `.` and `vars` as `$name` variables (names without `$`).
pub fn eval(code: &str, input: &Value, vars: &[(String, Value)]) -> Result<Vec<Value>, JqError> {
    check_size(code)?;
    on_big_stack(|| eval_here(code, input, vars))
}

fn eval_here(code: &str, input: &Value, vars: &[(String, Value)]) -> Result<Vec<Value>, JqError> {
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    let values: Vec<Val> = vars.iter().map(|(_, v)| to_val(v)).collect();
    eval_vals_here(code, to_val(input), &names, values)?
        .iter()
        .map(from_val)
        .collect()
}

/// As `eval`, with the input and the variables already jaq values (the jq worker keeps its
/// variables converted, so a large `$state` is converted once, not on every expression),
/// and the outputs left as jaq values (checked against `MAX_VALUE_DEPTH`; `Json` writes
/// them).
pub fn eval_vals(
    code: &str,
    input: Val,
    names: &[&str],
    values: Vec<Val>,
) -> Result<Vec<Val>, JqError> {
    check_size(code)?;
    on_big_stack(|| eval_vals_here(code, input, names, values))
}

fn eval_vals_here(
    code: &str,
    input: Val,
    names: &[&str],
    values: Vec<Val>,
) -> Result<Vec<Val>, JqError> {
    let names: Vec<String> = names.iter().map(|n| format!("${n}")).collect();
    let filter = compile(code, &names)?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new(values));
    let mut out = Vec::new();
    for item in filter.id.run((ctx, input)).map(unwrap_valr) {
        match item {
            Ok(v) => {
                check_depth(&v, 0)?;
                out.push(v);
            }
            Err(e) => return Err(JqError::Runtime(e.to_string())),
        }
        if out.len() > MAX_OUTPUTS {
            return Err(JqError::TooMany);
        }
    }
    Ok(out)
}

pub fn to_val(value: &Value) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::from(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64().and_then(|i| isize::try_from(i).ok()) {
                Val::from(i)
            } else {
                Val::Num(jaq_json::Num::from_dec_str(&n.to_string()))
            }
        }
        Value::String(s) => Val::from(s.clone()),
        Value::Array(items) => Val::Arr(Rc::new(items.iter().map(to_val).collect())),
        Value::Object(map) => {
            let mut out = jaq_json::Map::default();
            for (k, v) in map {
                out.insert(Val::from(k.clone()), to_val(v));
            }
            Val::obj(out)
        }
    }
}

/// The value as JSON; `DeepValue` past `MAX_VALUE_DEPTH` levels.
pub fn from_val(value: &Val) -> Result<Value, JqError> {
    from_val_at(value, 0)
}

fn from_val_at(value: &Val, depth: usize) -> Result<Value, JqError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(JqError::DeepValue);
    }
    Ok(match value {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(n) => {
            let text = n.to_string();
            serde_json::from_str::<serde_json::Number>(&text)
                .map(Value::Number)
                .unwrap_or_else(|_| match text.parse::<f64>() {
                    Ok(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
                    Err(_) => Value::Null,
                })
        }
        Val::TStr(b) | Val::BStr(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        Val::Arr(items) => Value::Array(
            items
                .iter()
                .map(|v| from_val_at(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Val::Obj(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map.iter() {
                let key = match k {
                    Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
                    other => other.to_string(),
                };
                out.insert(key, from_val_at(v, depth + 1)?);
            }
            Value::Object(out)
        }
    })
}

/// Refuses values nested deeper than `MAX_VALUE_DEPTH`, as jaq's outputs are.
pub(crate) fn check_outputs(values: &[Val]) -> Result<(), JqError> {
    values.iter().try_for_each(|v| check_depth(v, 0))
}

fn check_depth(value: &Val, depth: usize) -> Result<(), JqError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(JqError::DeepValue);
    }
    match value {
        Val::Arr(items) => items.iter().try_for_each(|v| check_depth(v, depth + 1)),
        Val::Obj(map) => map.values().try_for_each(|v| check_depth(v, depth + 1)),
        _ => Ok(()),
    }
}

/// Writes a jaq value as JSON, as `from_val` converts it, without building the
/// `serde_json::Value` first (the jq worker's replies). Depth is checked by `eval_vals`.
pub struct Json<'a>(pub &'a Val);

impl serde::Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Val::Null => s.serialize_unit(),
            Val::Bool(b) => s.serialize_bool(*b),
            Val::Num(jaq_json::Num::Int(i)) => s.serialize_i64(*i as i64),
            Val::Num(_) => match from_val(self.0) {
                Ok(number) => number.serialize(s),
                Err(_) => s.serialize_unit(),
            },
            Val::TStr(b) | Val::BStr(b) => s.serialize_str(&String::from_utf8_lossy(b)),
            Val::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items.iter() {
                    seq.serialize_element(&Json(v))?;
                }
                seq.end()
            }
            Val::Obj(map) => {
                let mut out = s.serialize_map(Some(map.len()))?;
                for (k, v) in map.iter() {
                    match k {
                        Val::TStr(b) | Val::BStr(b) => {
                            out.serialize_entry(&String::from_utf8_lossy(b), &Json(v))?
                        }
                        other => out.serialize_entry(&other.to_string(), &Json(v))?,
                    }
                }
                out.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(code: &str, vars: &[(String, Value)]) -> Value {
        let mut out = eval(code, &Value::Null, vars).unwrap();
        assert_eq!(out.len(), 1);
        out.remove(0)
    }

    #[test]
    fn arithmetic_and_filters() {
        assert_eq!(one("1 + 2", &[]), json!(3));
        assert_eq!(one("[1, 2, 3] | length", &[]), json!(3));
        assert_eq!(one("[.[]?] | map(. * 2)", &[]), json!([]));
        assert_eq!(one("1.5 * 2", &[]), json!(3.0));
    }

    #[test]
    fn variables_keep_their_names() {
        let vars = vec![
            ("a".to_string(), json!(1)),
            ("b".to_string(), json!({"c": [2]})),
            ("_".to_string(), json!("u")),
        ];
        assert_eq!(one("[$a, $b.c[0], $_]", &vars), json!([1, 2, "u"]));
    }

    #[test]
    fn objects_keep_order_and_types_round_trip() {
        let v = json!({"z": 1, "a": [true, null, 1.25, "s", 12345678901234u64], "m": {}});
        assert_eq!(one("$v", &[("v".into(), v.clone())]), v);
    }

    #[test]
    fn syntax_errors_have_offsets() {
        let e = eval("1 + ", &Value::Null, &[]).unwrap_err();
        assert!(matches!(e, JqError::Syntax { .. }), "{e:?}");
        let e = eval("[1, 2", &Value::Null, &[]).unwrap_err();
        assert!(e.offset().is_some());
    }

    #[test]
    fn unknown_variables_are_named() {
        let e = eval("$nope", &Value::Null, &[("x".into(), json!(1))]).unwrap_err();
        assert!(e.to_string().contains("$nope"), "{e}");
    }

    #[test]
    fn runtime_errors_are_errors() {
        let e = eval("\"a\" - 1", &Value::Null, &[]).unwrap_err();
        assert!(matches!(e, JqError::Runtime(_)));
        assert!(matches!(
            eval("error(\"boom\")", &Value::Null, &[]),
            Err(JqError::Runtime(_))
        ));
    }

    #[test]
    fn endless_outputs_are_capped() {
        assert_eq!(
            eval("repeat(1)", &Value::Null, &[]).unwrap_err(),
            JqError::TooMany
        );
    }

    #[test]
    fn cached_filters_see_new_values() {
        for i in 0..3 {
            let vars = vec![("x".to_string(), json!(i))];
            assert_eq!(one("$x * 10", &vars), json!(i * 10));
        }
    }

    #[test]
    fn deep_programs_are_refused_before_jaq() {
        // Each of these overflowed a 2 MiB stack (the kernel's tokio threads) and aborted
        // the kernel: found by fuzzing (fuzz/ jq_eval, cell_parser) and tests/deep_nesting.rs.
        let nested = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            eval(&nested, &Value::Null, &[]).unwrap_err(),
            JqError::TooDeep(10_000)
        );
        assert_eq!(check_syntax(&nested).unwrap_err(), JqError::TooDeep(10_000));
        let chain = vec!["1"; 10_002].join(" | ");
        assert_eq!(
            eval(&chain, &Value::Null, &[]).unwrap_err(),
            JqError::TooLong(10_001)
        );
    }

    #[test]
    fn big_programs_within_the_limits_run_on_a_small_stack() {
        // 2 MiB, as tokio's threads: a 300-element array overflowed it in debug builds.
        let run = || {
            let nested = format!("{}1{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
            assert!(check_syntax(&nested).is_ok());
            let list = (0..3000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let out = eval(&format!("[{list}] | length"), &Value::Null, &[]).unwrap();
            assert_eq!(out, vec![json!(3000)]);
            let pipes = vec!["1"; MAX_OPERATORS].join(" | ");
            assert_eq!(eval(&pipes, &Value::Null, &[]).unwrap(), vec![json!(1)]);
        };
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn deep_values_are_refused_when_they_leave_jq() {
        let deep = eval("reduce range(100000) as $i (0; [.])", &Value::Null, &[]);
        assert_eq!(deep.unwrap_err(), JqError::DeepValue);
        let ok = eval(
            "reduce range(200) as $i (0; [.]) | flatten",
            &Value::Null,
            &[],
        );
        assert_eq!(ok.unwrap(), vec![json!([0])]);
    }

    #[test]
    fn json_writes_what_from_val_converts() {
        let code = r#"[1, -2, 1.5, 1e300, 12345678901234567890, 0.1 + 0.2, nan, infinite, "é\u0001", {"b": [null, true], "a": {}}, ({} | .[1 | tostring] = 2), ("x" | @base64d? // "bytes")]"#;
        let names: [&str; 0] = [];
        let out = eval_vals(code, Val::Null, &names, Vec::new()).unwrap();
        for v in &out {
            let written: Value = serde_json::to_value(Json(v)).unwrap();
            assert_eq!(written, from_val(v).unwrap(), "{v:?}");
        }
        let deep = eval_vals(
            "reduce range(300) as $i (0; [.])",
            Val::Null,
            &names,
            Vec::new(),
        );
        assert_eq!(deep.unwrap_err(), JqError::DeepValue);
    }

    #[test]
    fn multiple_outputs() {
        assert_eq!(
            eval("1, 2", &Value::Null, &[]).unwrap(),
            vec![json!(1), json!(2)]
        );
    }
}

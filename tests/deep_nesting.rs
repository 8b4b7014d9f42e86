//! Deeply nested cells and jq programs end in an error, never a stack overflow (which
//! would abort the whole kernel, not just the cell). The kernel runs cells on tokio
//! worker threads and jq on the blocking pool, both with 2 MiB stacks, as the threads of
//! this test have.

mod common;

use common::Harness;
use mesos_kernel::cells::parser;
use mesos_kernel::engine::{jq, Engine};
use mesos_kernel::jupyter::{Completeness, Interpreter};
use serde_json::Value;

const DEPTH: usize = 10_000;

fn nested(open: &str, close: &str, inner: &str) -> String {
    format!("{}{inner}{}", open.repeat(DEPTH), close.repeat(DEPTH))
}

fn deep_programs() -> Vec<(&'static str, String)> {
    vec![
        ("arrays", nested("[", "]", "1")),
        ("objects", nested("{a: ", "}", "1")),
        ("parens", nested("(", ")", "1")),
        ("interpolation", nested("\"\\(", ")\"", "1")),
        ("unclosed arrays", "[".repeat(DEPTH)),
        // Chains are not nesting, but jaq recurses over them the same way.
        ("pipes", vec!["1"; 2 * DEPTH].join(" | ")),
        ("negations", format!("{}1", "-".repeat(2 * DEPTH))),
        ("alternatives", vec!["1"; 2 * DEPTH].join(" // ")),
        ("tries", format!("{}1", "try ".repeat(2 * DEPTH))),
        (
            "reduce",
            format!(
                "{}1{}",
                "reduce . as $x (".repeat(DEPTH),
                "; .)".repeat(DEPTH)
            ),
        ),
    ]
}

#[tokio::test]
async fn deep_cells_are_errors_not_overflows() {
    let mut h = Harness::new();
    for (what, program) in deep_programs() {
        let e = h.err(&program).await;
        assert!(!e.evalue.is_empty(), "{what}");
        assert!(!e.evalue.contains('\n'), "{what}: {}", e.evalue);
        // A JSON call body and a call argument go through jq too.
        if what == "arrays" {
            h.err(&format!("x = {program}")).await;
            h.err(&format!("GET_STATE x={program}")).await;
        }
    }
    assert_eq!(h.ok("1 + 2").await["text/plain"], "3");
}

#[test]
fn deep_jq_is_an_error_not_an_overflow() {
    for (what, program) in deep_programs() {
        assert!(
            jq::eval(&program, &Value::Null, &[]).is_err(),
            "{what} evaluated"
        );
        assert!(
            jq::check_syntax(&program).is_err(),
            "{what} passed the check"
        );
    }
}

#[test]
fn deep_cells_parse_and_are_not_complete() {
    let mut engine = Engine::new();
    for (what, program) in deep_programs() {
        let _ = parser::parse_cell(&program);
        // It answers; what it answers matters for the plain expressions (a `{...}` call
        // is not checked as jq until it runs).
        let c = engine.is_complete(&program);
        match what {
            "unclosed arrays" => assert!(matches!(c, Completeness::Incomplete { .. })),
            "arrays" | "parens" | "pipes" => assert_eq!(c, Completeness::Invalid, "{what}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn deep_values_built_at_run_time_are_errors() {
    let mut h = Harness::new();
    let e = h.err("reduce range(100000) as $i (0; [.])").await;
    assert!(!e.evalue.contains('\n'), "{}", e.evalue);
    assert_eq!(h.ok("1 + 2").await["text/plain"], "3");
}

//! Arbitrary jq programs over a small input and a couple of variables: jq::eval answers
//! values or a JqError, never a panic or a stack overflow.
//!
//! jq is Turing-complete: `def f: f; f`, `repeat(.)`, `until(false; .)` or `range(1e18)`
//! legitimately run forever, and the kernel bounds them with interrupts, not here. Such
//! inputs end as libFuzzer timeouts (`-timeout=`), which docs/reliability.md says how to
//! triage; the harness itself only keeps the programs short (`-max_len`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_kernel::engine::jq;
use serde_json::{json, Value};

fuzz_target!(|code: &str| {
    let input = json!({"a": [1, 2.5, {"b": "x"}], "n": null, "s": "héllo"});
    let vars: Vec<(String, Value)> = vec![
        ("x".into(), json!(41)),
        (
            "tasks".into(),
            json!([{"task_id": {"value": "t1"}, "state": "TASK_RUNNING"}]),
        ),
        ("_".into(), json!("last")),
    ];
    if let Ok(values) = jq::eval(code, &input, &vars) {
        assert!(values.len() <= jq::MAX_OUTPUTS, "the output cap was passed");
    }
});

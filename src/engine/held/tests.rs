//! Every construct the compact queries answer, compared with jaq on the same values; and
//! what they leave to jaq.

use super::*;

/// `code` parsed and answered here, as the jq worker does it.
fn query(
    code: &str,
    input: Option<&HeldVar>,
    vars: &[(&str, &HeldVar)],
) -> Option<Result<Vec<Val>, JqError>> {
    answer(&parse_query(code)?, input, vars)
}

const STATE: &str = r#"{
  "type": "GET_STATE",
  "get_state": {
    "get_tasks": {
      "tasks": [
        {"name": "web-1", "state": "TASK_RUNNING", "resources": [{"name": "cpus", "scalar": {"value": 0.5}}], "ports": [31000, 31001], "labels": {}},
        {"name": "web-2", "state": "TASK_FINISHED", "resources": [{"name": "mem", "scalar": {"value": 128}}], "ports": [], "note": null},
        {"name": "caf\u00e9 \ud83d\ude00", "state": "TASK_RUNNING", "resources": [], "ports": [-3], "healthy": false},
        {"name": "batch", "state": "TASK_RUNNING", "ports": [18446744073709551615, 2.5], "healthy": true, "labels": {"a": 1, "b": [1, {"c": 2}]}}
      ]
    },
    "get_agents": {"agents": [{"id": "a1", "n": 1}, {"n": 1.0, "id": "a1"}]}
  },
  "weird": {"k": 1, "k": 2, "": "empty key", "x y": [null, true, false, 0, -0.0, 1e300]}
}"#;

fn held(text: &str) -> HeldVar {
    HeldVar::parse(text.as_bytes()).expect("JSON")
}

/// jaq's values for `code` over `$s`, as text.
fn jaq(code: &str, s: &HeldVar) -> Result<Vec<String>, String> {
    jq::eval_vals(code, Val::Null, &["s"], vec![s.val()])
        .map(|vs| vs.iter().map(Val::to_string).collect())
        .map_err(|e| e.to_string())
}

fn ours(code: &str, s: &HeldVar) -> Option<Result<Vec<String>, String>> {
    query(code, None, &[("s", s)]).map(|r| {
        r.map(|vs| vs.iter().map(Val::to_string).collect())
            .map_err(|e| e.to_string())
    })
}

#[test]
fn answered_queries_give_what_jaq_gives() {
    let s = held(STATE);
    let answered = [
        "$s",
        ".",
        "$s.get_state.get_tasks.tasks | length",
        "$s.get_state.get_tasks.tasks | map(select(.state == \"TASK_RUNNING\")) | length",
        "[$s.get_state.get_tasks.tasks[] | select(.state != \"TASK_RUNNING\") | .name]",
        "$s.get_state.get_tasks.tasks[].name",
        "$s.get_state.get_tasks.tasks[] | .name | length",
        "$s.get_state.get_tasks.tasks[0]",
        "$s.get_state.get_tasks.tasks[1], $s.get_state.get_tasks.tasks[7]",
        "$s.get_state.get_tasks.tasks[].ports[]",
        "$s.get_state.get_tasks.tasks[].ports | length",
        "$s.get_state.get_tasks.tasks[].ports[] | . > 0",
        "$s.get_state.get_tasks.tasks[].ports[] | . == 2.5, . <= 31000, . >= 31001",
        "$s.get_state.get_tasks.tasks[] | .healthy | not",
        "$s.get_state.get_tasks.tasks[] | .labels | type",
        "$s.get_state.get_tasks.tasks[] | .labels[]?",
        "$s.get_state.get_tasks.tasks[] | .labels.a?",
        "$s.get_state.get_tasks.tasks[] | .missing.deeper[0]",
        "$s.get_state.get_tasks.tasks[] | .resources[]?.scalar.value",
        "$s.get_state.get_tasks.tasks[] | if .state == \"TASK_RUNNING\" then .name elif .note == null then 1 else 2 end",
        "$s.get_state.get_tasks.tasks[] | if .healthy then \"yes\" end",
        "$s.get_state.get_tasks.tasks[] | select(.healthy and .state == \"TASK_RUNNING\") | .name",
        "$s.get_state.get_tasks.tasks[] | select(.healthy or .ports == []) | .name",
        "$s.get_state.get_tasks.tasks[] | .name < \"web\", .name >= \"web-2\"",
        "$s.get_state.get_agents.agents[0] == $s.get_state.get_agents.agents[1]",
        "$s.get_state.get_agents.agents | .[0] != .[1]",
        "$s.weird",
        "$s.weird[]",
        "$s.weird.\"x y\" | map(type)",
        "$s.weird.\"x y\"[] | type, (. == 0)",
        "$s.weird[\"\"], $s.weird.k",
        "[$s.weird | .[] | type], [empty], [true, false, null], 1.5, \"lit\\n\\u00e9\"",
        "$s.type | length",
        "[$s.get_state.get_tasks.tasks[] | .name] == [\"web-1\"]",
        "$s.get_state | map(length)",
        "null | .a, .[0]",
        "$s.get_state.get_tasks.tasks[-1].name, $s.get_state.get_tasks.tasks[-9]",
        "$s.get_state.get_tasks.tasks | first.name, last.name",
        "$s.get_state.get_tasks.tasks[] | .ports | first, last",
        "$s.get_state.get_tasks.tasks[0] | keys, (.ports | keys)",
        "$s.weird | keys",
        "$s.weird.\"x y\"[] | values",
        "any($s.get_state.get_tasks.tasks[]; .state == \"TASK_FINISHED\")",
        "all($s.get_state.get_tasks.tasks[]; .state == \"TASK_RUNNING\")",
        "$s.get_state.get_tasks.tasks | any(.healthy), all(.name | length > 2)",
        "$s.get_state.get_tasks.tasks[] | .ports | any, all",
        "[$s.get_state.get_tasks.tasks[].healthy] | any, all",
        "[] | any, all, any(.x), all(.x)",
        "any($s.get_state.get_tasks.tasks[]; .ports | any(. == 31001))",
        "$s | any, all",
        // Made here: objects, strings with `\(...)`, ranges (a call's body).
        "[range(5) | {\"task_id\": {\"value\": \"r-\\(.)\"}}]",
        "range(2; 5), range(0), range(3; 1), {(\"a\"): 1}",
        "{a: 1, \"b\": [range(3)], a: 2} | keys, length, .a, .b[1], (.[] | type), type",
        "{\"k\\u00e9\": null, b: \"x\"} | map(type), .[], .missing",
        "\"\\(null) \\(true) \\(1) \\(7) x\\(\"y\") \\u00e9\"",
        "$s.get_state.get_tasks.tasks[] | \"\\(.name)!\"",
        "[$s.get_state.get_tasks.tasks[] | {name: .name, n: (.ports | length), s: .state}]",
        "{} | length, keys",
        "[{a: 1}, {b: 2}] | map(keys)",
    ];
    for code in answered {
        let ours = ours(code, &s).unwrap_or_else(|| panic!("not answered: {code}"));
        assert_eq!(ours, jaq(code, &s), "{code}");
    }
}

#[test]
fn the_rest_is_left_to_jaq() {
    let s = held(STATE);
    let left = [
        // Errors: jaq says what went wrong.
        "$s.type[0]",
        "$s.type.name",
        "$s.type[]",
        "$s.get_state.get_tasks.tasks[] | .healthy | length",
        "$s.get_state.get_tasks.tasks | .[\"a\"]",
        "map(.)",
        // Beyond what is answered here.
        "$s.get_state.get_tasks.tasks[1:]",
        "$s.type | first",
        "$s.get_state.get_tasks.tasks | first(.[])",
        "[$s.get_state.get_tasks.tasks[] | .ports | length] | add",
        "$s.get_state.get_tasks.tasks[] | {name}",
        "$s.get_state.get_tasks.tasks[3].labels == {\"b\": [1, {\"c\": 2}], \"a\": 1}",
        // The length of an integer past 64 bits.
        "$s.get_state.get_tasks.tasks[].ports[] | length",
        "$s.get_state.get_tasks.tasks[] | .name // 1",
        "{a: (1, 2)}",
        "\"\\(1.5)\", \"\\([1])\"",
        "{a: 1} == {a: 1}",
        "[{a: 1}] == [{a: 1}]",
        "range(1.5)",
        "{$s}",
        "$s.get_state.get_tasks.tasks[] | (.ports[] , 1) == 1",
        "$s.get_state.get_tasks.tasks[] as $t | $t.name",
        "def f: .; $s | f",
        "$nope",
        "$s.type | (",
        "1 + 1",
        "$s.get_state.get_tasks.tasks[] | .name < 1",
    ];
    for code in left {
        assert!(
            ours(code, &s).is_none(),
            "answered, but should be left: {code}"
        );
    }
}

#[test]
fn many_outputs_and_deep_values_are_checked_as_jaq_checks_them() {
    let many = format!("[{}]", vec!["0"; jq::MAX_OUTPUTS + 1].join(","));
    let s = held(&many);
    assert!(ours("$s[]", &s).is_none(), "jaq gives its own error");
    let depth = jq::MAX_VALUE_DEPTH + 5;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let s = stacker::grow(64 << 20, || held(&deep));
    let answer = stacker::grow(64 << 20, || ours("$s", &s));
    assert_eq!(answer.map(|r| r.is_err()), Some(true));
    stacker::grow(64 << 20, || drop(s));
}

#[test]
fn a_big_object_with_repeated_keys_reads_as_jaq_reads_it() {
    let mut text = String::from("{");
    for i in 0..100 {
        text.push_str(&format!("\"k{i}\": {i}, "));
    }
    text.push_str("\"k7\": \"again\", \"k99\": [1]}");
    let s = held(&text);
    for code in ["$s", "$s.k7", "$s | length", "$s.k99", "[$s[]] | length"] {
        assert_eq!(ours(code, &s).expect("answered"), jaq(code, &s), "{code}");
    }
}

#[test]
fn two_held_values_compare() {
    let a = held(r#"{"x": [1, {"y": "z"}], "w": 2}"#);
    let b = held(r#"{"w": 2.0, "x": [1, {"y": "z"}]}"#);
    let vars = [("a", &a), ("b", &b)];
    let eq = query("$a == $b, $a.x == $b.x, $a.w < $b.w", None, &vars).expect("answered");
    let texts: Vec<String> = eq.expect("values").iter().map(Val::to_string).collect();
    assert_eq!(texts, ["true", "true", "false"]);
}

#[test]
fn an_input_is_queried_as_jaq_queries_it() {
    let input = held(STATE);
    let s = held(r#"{"wanted": "TASK_RUNNING"}"#);
    for code in [
        ".get_state.get_tasks.tasks | map(select(.state == $s.wanted)) | length",
        "[.get_state.get_tasks.tasks[] | .name]",
        ".weird",
    ] {
        let ours = query(code, Some(&input), &[("s", &s)]).expect("answered");
        let theirs = jq::eval_vals(code, input.val(), &["s"], vec![s.val()]);
        let text = |r: Result<Vec<Val>, JqError>| {
            r.map(|vs| vs.iter().map(Val::to_string).collect::<Vec<_>>())
                .map_err(|e| e.to_string())
        };
        assert_eq!(text(ours), text(theirs), "{code}");
    }
}

#[test]
fn what_can_be_answered_is_known_before_reading_the_input() {
    for code in [
        ".a.b[0] | length",
        "map(select(.x and .y != 1))",
        "any(.[]; . > 2)",
        "[range(3) | {task_id: {value: \"t-\\(.)\"}}]",
    ] {
        assert!(parse_query(code).is_some(), "{code}");
    }
    for code in [
        ".[1:]",
        "{a}",
        "1 + 1",
        ". as $x | $x",
        "first(.[])",
        "\"\\(. + 1)\"",
        "{a: 1 + 1}",
        "(.a",
    ] {
        assert!(parse_query(code).is_none(), "{code}");
    }
}

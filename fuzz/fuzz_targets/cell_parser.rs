//! Any UTF-8 text as a cell: parsing and is_complete must answer (a statement list, a
//! ParseError, a completeness), never panic or overflow the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_kernel::cells::parser;
use mesos_kernel::engine::Engine;
use mesos_kernel::jupyter::Interpreter;
use std::cell::RefCell;

thread_local! {
    // One engine for the whole run: is_complete needs no session, and building the HTTP
    // client per input would only slow the fuzzer down.
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::new());
}

fuzz_target!(|code: &str| {
    match parser::parse_cell(code) {
        Ok(statements) => {
            for s in statements {
                // What the engine does with a statement's text before evaluating it.
                let _ = s.source.lines().next();
            }
        }
        Err(e) => {
            // The traceback of a parse error: the line and a caret under the column.
            let caret = e.caret(code);
            assert_eq!(caret.len(), 2);
            let _ = e.to_string();
        }
    }
    ENGINE.with(|engine| {
        let _ = engine.borrow_mut().is_complete(code);
    });
});

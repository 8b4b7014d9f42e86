//! The cell language: parsing a cell into statements with positions (raw HTTP requests in
//! `http`), completeness, and (in `registry`) every Mesos call the language can name.

pub mod http;
pub mod lexer;
pub mod parser;
pub mod registry;

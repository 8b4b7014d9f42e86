//! The cell language: parsing a cell into statements with positions, completeness, and
//! (in `registry`) every Mesos call the language can name.

pub mod lexer;
pub mod parser;
pub mod registry;

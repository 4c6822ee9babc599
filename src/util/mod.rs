//! Small helpers shared by commands.

pub mod fsx;
pub mod interrupt;
pub mod machine;
pub mod out;
pub mod par;
pub mod pgpwords;
pub mod style;
pub mod text;

//! Small helpers shared by commands.

pub mod fsx;
pub mod pgpwords;

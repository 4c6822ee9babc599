//! Small helpers shared by commands.

pub mod fsx;
pub mod par;
pub mod pgpwords;
pub mod text;

//! Templates: the manifest, the parameter schema, answers, snapshots of a template's files,
//! and the validation checks.

pub mod answers;
pub mod cookiecutter;
pub mod copier;
pub mod load;
pub mod manifest;
pub mod params;
pub mod ranges;
pub mod snapshot;
pub mod validate;
pub mod yaml;

pub use manifest::Manifest;

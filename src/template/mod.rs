//! Templates: the manifest, the parameter schema, answers, and snapshots of a template's files.

pub mod answers;
pub mod context;
pub mod context_map;
pub mod cookiecutter;
pub mod copier;
pub mod copier_config;
pub mod copier_values;
pub mod load;
pub mod manifest;
pub mod params;
pub mod ranges;
pub mod snapshot;
pub mod syntax;
pub mod user_defaults;
pub mod yaml;

pub use manifest::Manifest;

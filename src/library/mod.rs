//! Libraries: reading real project files, OpenAPI documents and NuGet packages, resolving
//! dependency graphs, matching OSV advisories, and publishing to feeds.

pub mod advise;
pub mod advisories;
pub mod feed;
pub mod graph;
pub mod openapi;
pub mod project;
pub mod resolve;

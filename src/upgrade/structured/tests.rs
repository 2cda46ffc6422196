//! The structured merge on a table of cases.

//! The `--json` documents of `list` and `show`.

use crate::domain::events::SourceRef;
use crate::domain::state::{Template, TemplateVersion, ValidationSummary};

/// One version as `show --json` prints it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionReport<'a> {
    version: &'a str,
    template_version_id: &'a str,
    status: &'static str,
    content_hash: &'a str,
    file_count: u64,
    byte_count: u64,
    source_ref: &'a SourceRef,
    created_at: &'a str,
    validation: &'a Option<ValidationSummary>,
    publication_id: &'a Option<String>,
    published_at: &'a Option<String>,
}

impl<'a> VersionReport<'a> {
    fn of(v: &'a TemplateVersion) -> VersionReport<'a> {
        VersionReport {
            version: &v.version,
            template_version_id: &v.id,
            status: v.status.as_str(),
            content_hash: &v.content_hash,
            file_count: v.file_count,
            byte_count: v.byte_count,
            source_ref: &v.source_ref,
            created_at: &v.created_at,
            validation: &v.validation,
            publication_id: &v.publication_id,
            published_at: &v.published_at,
        }
    }
}

/// `show TEMPLATE@VERSION --json`: the version, its template and its parameters.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VersionOfTemplateReport<'a> {
    #[serde(flatten)]
    version: VersionReport<'a>,
    template: &'a str,
    template_id: &'a str,
    parameters: &'a Option<serde_json::Value>,
}

impl<'a> VersionOfTemplateReport<'a> {
    pub(super) fn of(template: &'a Template, v: &'a TemplateVersion) -> Self {
        VersionOfTemplateReport {
            version: VersionReport::of(v),
            template: &template.name,
            template_id: &template.id,
            parameters: &v.schema,
        }
    }
}

/// `show TEMPLATE --json`: the template and every version.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TemplateReport<'a> {
    template_id: &'a str,
    name: &'a str,
    title: &'a str,
    category: &'a str,
    owner: &'a Option<String>,
    tags: &'a [String],
    source: &'a str,
    registered_at: &'a str,
    latest_version: Option<&'a str>,
    latest_published: Option<&'a str>,
    versions: Vec<VersionReport<'a>>,
    parameters: Option<&'a serde_json::Value>,
}

impl<'a> TemplateReport<'a> {
    pub(super) fn of(t: &'a Template) -> TemplateReport<'a> {
        TemplateReport {
            template_id: &t.id,
            name: &t.name,
            title: &t.title,
            category: &t.category,
            owner: &t.owner,
            tags: &t.tags,
            source: &t.source,
            registered_at: &t.registered_at,
            latest_version: t.latest().map(|v| v.version.as_str()),
            latest_published: t.latest_published().map(|v| v.version.as_str()),
            versions: t.versions.iter().map(VersionReport::of).collect(),
            parameters: t.latest().and_then(|v| v.schema.as_ref()),
        }
    }
}

/// `list --json`: one line per template.
#[derive(serde::Serialize)]
pub(super) struct ListReport<'a> {
    templates: Vec<ListedTemplate<'a>>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ListedTemplate<'a> {
    template_id: &'a str,
    name: &'a str,
    category: &'a str,
    latest_version: Option<&'a str>,
    status: Option<&'static str>,
    latest_published: Option<&'a str>,
}

impl<'a> ListReport<'a> {
    pub(super) fn of(templates: &[&'a Template]) -> Self {
        let templates = templates
            .iter()
            .map(|t| ListedTemplate {
                template_id: &t.id,
                name: &t.name,
                category: &t.category,
                latest_version: t.latest().map(|v| v.version.as_str()),
                status: t.latest().map(|v| v.status.as_str()),
                latest_published: t.latest_published().map(|v| v.version.as_str()),
            })
            .collect();
        ListReport { templates }
    }
}

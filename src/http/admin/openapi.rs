//! What every operation of the admin API shares, added to the generated document once: the
//! document's title and server, the bearer admin token, the path parameters its template names,
//! and the JSON error answers.

use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, ObjectBuilder, OpenApi, Ref, RefOr,
    ResponseBuilder, Schema, ServerBuilder, Type,
};

const ERROR_SCHEMA: &str = "Error";
const SECURITY: &str = "admin_token";

/// The error answers any operation may give, with when.
const ERRORS: [(&str, &str); 6] = [
    ("400", "Malformed or invalid input; `error` names the field"),
    ("401", "No valid admin token"),
    ("403", "The admin token may not do this (read-only)"),
    (
        "404",
        "No such resource, or not one this admin token reaches",
    ),
    ("409", "It exists already, or changed meanwhile"),
    ("413", "The request body is too large"),
];

/// Completes the generated document.
pub fn describe(document: &mut OpenApi) {
    document.info = InfoBuilder::new()
        .title("Airlock admin API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The CLI's operations over HTTP. Every environment's resources live under \
             /projects/{project}/environments/{environment}. Authenticate with \
             `Authorization: Bearer ADMIN_TOKEN` (`airlock admin-token create`).",
        ))
        .build();
    document.servers = Some(vec![ServerBuilder::new().url("/admin/v1").build()]);
    let error = ObjectBuilder::new()
        .property(
            "error",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("What was wrong")),
        )
        .required("error")
        .build();
    let components = document
        .components
        .get_or_insert_with(|| ComponentsBuilder::new().build());
    components
        .schemas
        .insert(ERROR_SCHEMA.into(), RefOr::T(Schema::Object(error)));
    error_responses(components);
    components.security_schemes.insert(
        SECURITY.into(),
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    document.security = Some(vec![SecurityRequirement::new::<_, _, &str>(SECURITY, [])]);
    for (template, item) in document.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            add_path_parameters(operation, template);
            add_errors(operation);
        }
    }
}

/// A string path parameter for each `{name}` of `template` the operation does not declare.
fn add_path_parameters(operation: &mut Operation, template: &str) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let names = template
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'));
    for name in names {
        let declared = parameters
            .iter()
            .any(|p| p.name == name && p.parameter_in == ParameterIn::Path);
        if !declared {
            parameters.push(path_parameter(name));
        }
    }
}

fn path_parameter(name: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(utoipa::openapi::Required::True)
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1)),
        ))
        .build()
}

/// The name of the shared answer for an error status.
fn error_response(status: &str) -> String {
    format!("Error{status}")
}

fn add_errors(operation: &mut Operation) {
    for (status, _) in ERRORS {
        if operation.responses.responses.contains_key(status) {
            continue;
        }
        let shared = Ref::new(format!("#/components/responses/{}", error_response(status)));
        operation
            .responses
            .responses
            .insert(status.into(), RefOr::Ref(shared));
    }
}

/// The error answers, once, for every operation to refer to.
fn error_responses(components: &mut utoipa::openapi::Components) {
    for (status, description) in ERRORS {
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(ERROR_SCHEMA)))
                    .build(),
            )
            .build();
        components
            .responses
            .insert(error_response(status), RefOr::T(response));
    }
}

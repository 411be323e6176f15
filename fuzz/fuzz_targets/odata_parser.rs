//! The sandbox's OData query options on any text: as a `$filter` for users and for number
//! assignments (and, when it parses, evaluated against a few entities), as a whole query string,
//! and as `$select`, `$top`, `$skip` and `$count`. Refusals are fine; a panic is not.

#![no_main]

use dialpad_teams_sandbox::graph::numbers::NUMBER_FILTER;
use dialpad_teams_sandbox::graph::odata::{
    Filter, FilterSchema, PropertyValue, QueryOptions, parse_count, parse_select, parse_skip, parse_top,
};
use dialpad_teams_sandbox::graph::users::USER_FILTER;
use libfuzzer_sys::fuzz_target;

/// Values an entity may have, so that evaluation meets strings, booleans, collections and nulls.
fn value<'a>(property: &str, text: &'a str) -> PropertyValue<'a> {
    match property.len() % 4 {
        0 => PropertyValue::String(text),
        1 => PropertyValue::Bool(text.len() % 2 == 0),
        2 => PropertyValue::Strings(text.split(',').collect()),
        _ => PropertyValue::Null,
    }
}

fn filter(text: &str, schema: &FilterSchema) {
    let Ok(filter) = Filter::parse(text, schema) else {
        return;
    };
    for property in filter.properties() {
        assert!(
            schema.properties.iter().any(|(name, _)| *name == property),
            "{text:?} reads {property:?}, which {} does not have",
            schema.resource
        );
    }
    // Whatever the entity, evaluation answers.
    for sample in ["", "a@contoso.com", "+14155550100", "true", "İ"] {
        filter.matches_with(|property| value(property, sample));
        filter.matches_with(|property| value(property, text));
    }
}

fuzz_target!(|text: &str| {
    filter(text, &USER_FILTER);
    filter(text, &NUMBER_FILTER);
    if let Ok(options) = QueryOptions::parse(Some(text)) {
        for name in ["$filter", "$select", "$top", "$skip", "$count"] {
            let _ = options.get(name);
        }
        if let Some(inner) = options.get("$filter") {
            filter(inner, &USER_FILTER);
        }
        let _ = options.unsupported_system_options(&["$filter", "$select", "$top"]);
    }
    let _ = parse_select(text);
    let _ = parse_top(Some(text), 100, 999);
    let _ = parse_skip(Some(text));
    let _ = parse_count(Some(text));
});
